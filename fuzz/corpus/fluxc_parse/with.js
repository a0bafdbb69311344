var x = 1;
with (obj) { x; }
