// Element builders shared by the operator pages (web/cluster/, web/admin/graph/). Text from a
// server only ever reaches the page through textContent or setAttribute; nothing here parses HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(e, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// el('td.num', {title: 'x'}, 'text', child…): tag with optional .classes, attributes (on* keys
// become listeners), children as nodes or text (arrays are flattened).
export function el(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const e = document.createElement(tag || 'div');
  if (classes.length) e.className = classes.join(' ');
  return build(e, attrs, children);
}

// The same for SVG elements (class goes through the attribute: SVG has no className string).
export function svg(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const e = document.createElementNS(SVG_NS, tag);
  if (classes.length) e.setAttribute('class', classes.join(' '));
  return build(e, attrs, children);
}

export const $ = (id) => document.getElementById(id);
