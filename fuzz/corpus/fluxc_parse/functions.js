var fact = function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); };
var g = function h() { var h = 1; return h; };
h;
var anon = function () { return anon; };
function* gen(n) { yield n; yield* gen(n - 1); }
async function af() { await af(); }
var ge = function* named() { yield named; };
(function iife(global) { global.x = iife; })(this);
function outer() { return arguments[0] + (() => arguments[1])() + inner(); function inner() { return arguments; } }
arguments;
