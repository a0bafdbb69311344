var x = 1;
function f() { return eval("x"); }
