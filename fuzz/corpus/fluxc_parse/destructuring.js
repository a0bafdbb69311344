var {a, b: {c}, d = 1, ...rest} = source();
let [x, , y = a, ...ys] = list;
var m, n, o;
[m, n] = [n, m];
({m, n: o, o: {deep: n}} = obj);
({ a: m.field, b: n[o] } = obj);
[m.first, ...n.rest] = arr;
({ [key]: m = dflt } = obj);
const { length } = 'abc';
function source() { return {}; }
var list = [], obj = {}, arr = [], key = 'k', dflt = 0;
