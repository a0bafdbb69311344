class Base { constructor(x) { this.x = x; } get v() { return this.x; } set v(y) { this.x = y; } static make() { return new Base(1); } }
class Derived extends Base {
  #secret = 1;
  static count = 0;
  field = Derived.count + other;
  [computedKey] = 2;
  constructor(...args) { super(...args); Derived.count++; }
  method() { return super.v + this.#secret + Derived; }
  static { var inStatic = Derived; Derived.count = inStatic.count; }
  #priv() { return #secret in this; }
}
const Expr = class Named extends Base { who() { return Named; } };
Named;
const AnonClass = class { m() { return AnonClass; } };
let computedKey = 'k', other = 1;
class Self extends (Self2 = null, Object) {}
var Self2;
