'use strict';
const big = 123n * 2n;
const re = /a\/b[/]c(?<name>d)/gu;
const tpl = `line ${big} and ${`nested ${re.source}`}`;
const opt = maybe?.deep?.[big]?.call?.(tpl);
const nul = opt ?? tpl;
const spreadArr = [...[1, 2], ...tpl];
const spreadCall = Math.max(...spreadArr);
async function main() {
  for await (const chunk of stream()) { chunk; }
  const { default: mod } = await import('./mod.js');
  return mod;
}
function* stream() { yield 1; }
label: {
  break label;
}
const exp = 2 ** 10;
const obj = { __proto__: null };
function Ctor() { if (new.target) { return new.target.name; } }
