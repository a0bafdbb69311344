var x = 'module';
function a() {
  var x = 'a';
  function b() {
    let x = 'b';
    {
      const x = 'block';
      x;
    }
    return x;
  }
  return [x, b()];
}
const f = (x) => x;
const g = function x() { return x; };
const h = function (x) { return function x2() { return x; }; };
x;
