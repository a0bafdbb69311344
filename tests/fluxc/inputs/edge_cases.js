var f = function f() { var f; return f; };
function p(a) { function a() {} return a; }
let x; { function x2() { return x; } x2(); }
class A { static x = A; static y = this; [A.name] = 1; static z = () => A; }
({ a: x = 1 } = {});
const arrows = [({ a }) => a, ([b]) => b, (c = 1) => c, (...d) => d];
async function af(src) { for await (const [k, v] of src) { k; v; } }
var o = {}, b = 'k', args = [];
o?.[b]?.();
var getters = { get [b]() { return b; }, set [b + 1](v) { o = v; } };
lbl: function labeled() {}
try { af(); } catch (e) { let y = e; y; }
function Ctor() { if (!new.target) return new Ctor(...args); }
for (var i = 0, j = 1; i < j; i++, j--) ;
if (o) b = 1; else o = 2;
o.b = getters.c = args;
var bound = function () { return this; }.call(o);
(() => { o; })();
(0, o.fn)();
o.tag`x${b}`;
delete o?.a;
typeof (b);
void (b = 1);
if (o) /re/.test(b);
let z = 1;
var big = { 1n: 1, 0x10: 2, 1.5: 3 };
function defaultSelf(a = defaultSelf) { return a; }
var g = function h(a = h) { return a; };
function lazy(a = () => later) { var later = 1; return a; }
class Outer extends Base(Outer2) {}
var Outer2, Base = (x) => x;
z; i; j; bound; big; lazy; g; Outer;
