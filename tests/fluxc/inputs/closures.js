'use strict';
function counter() {
  let n = 0;
  return {
    inc: () => ++n,
    get value() { return n; },
    reset() { n = 0; return this; },
  };
}
const c = counter();
c.inc();
const handlers = [];
for (let i = 0; i < 3; i++) handlers.push(() => i);
for (var j = 0; j < 3; j++) handlers.push(function () { return j; });
const compose = (...fns) => (x) => fns.reduceRight((acc, fn) => fn(acc), x);
const add = (a) => (b) => a + b;
compose(add(1), add(2))(3);
setTimeout(function tick() { setTimeout(tick, 10); }, 10);
process.nextTick(() => { c.reset().inc(); });
