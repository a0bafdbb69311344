var a = 1, b = 2, key = 'k';
var o = {
  a,
  b: b,
  [key]: a + b,
  'str': 1,
  42: 2,
  method() { return this.a + a; },
  get g() { return b; },
  set s(val) { a = val; },
  async *agen() { yield key; },
  ...spread,
  nested: { a, key },
};
o.a.b;
o['a'];
var spread = {};
