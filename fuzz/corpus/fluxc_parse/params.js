function f(a, b = a, {c, d: [e, ...rest] = [], [key]: g = b, ...others} = {}, ...tail) {
  var a;
  return a + b + c + e + rest + g + others + tail + key + arguments.length;
}
const key = 'k';
const arrow = (x, {y} = {y: x}) => x + y + (typeof arguments);
const single = z => z * 2;
const asyncArrow = async w => await w;
function defaultsSeeBody(p = q) { var q = 1; return p; }
function shadow(f) { return f; }
