const mixin = (Base) => class extends Base { mixed() { return Base; } };
class A extends mixin(Object) {
  static #count = 0;
  static inc() { return A.#count++; }
  static {
    var tmp = A.inc();
    let blockScoped = tmp;
    A.initial = blockScoped;
  }
  constructor() { super(); this.id = A.inc(); }
  ['computed' + A.name]() {}
  static async *[Symbol.iterator]() { yield this; }
  arrowField = () => this.id + A.initial;
  #privateMethod() { return this.#privateMethod; }
}
let B = class B2 { static self = B2; m() { return B; } };
new A();
B;
