const items = [1, 2, 3];
for (let i = 0, n = items.length; i < n; i++) { const item = items[i]; use(item); }
for (const k in items) { items[k]; }
for (let [idx, val] of items.entries()) { idx + val; }
for (var v of items) v;
v;
var obj = {};
for (obj.key in items) {}
for (free of items) {}
var p, q;
for ([p, q] of [[1, 2]]) {}
for ({p, q: obj.z} of []) {}
for (const items of items) { items; }
outer: for (;;) { inner: while (true) { break outer; } continue outer; }
do { items.pop(); } while (items.length);
for (var w = 0; w < 1; w++);
w;
