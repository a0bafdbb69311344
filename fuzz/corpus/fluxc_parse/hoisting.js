use(x, f, g);
var x = 1;
function f() { return y + inner; var y = 2; function inner() { return x; } }
if (x) { var z = 3; function g() { return z; } g(); }
g;
for (var i = 0; i < 3; i++) { var j = i; }
i; j;
var x;
var x = 2;
