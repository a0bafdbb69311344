// The subordination tree as SVG, redrawn from every /api/v1/cluster reply.
//
// Each known node (the reply's `nodes`) is a box under its current superior (Record.superior);
// its load colours the box and fills a bar. A node whose current superior is not its ideal one
// (⌊(p−2)/f⌋+1, issue 7) — it re-attached elsewhere after a failure — gets a dashed outline and a
// dashed edge to the ideal superior when that node is known. A node whose superior is unknown
// here, or that is caught in a (stale) cycle, is drawn as one more root.
//
// Elements are keyed by position and kept across updates: boxes glide to their new places
// (requestAnimationFrame), new ones fade in from their superior, gone ones fade out (CSS opacity
// transitions). Nothing from the API is parsed as markup: text goes through textContent.
import { svg, nodeUrl, idealSuperior, superiorOf, formatLoad, formatInt } from './dom.js';

export const BOX_W = 136;
export const BOX_H = 62;
const GAP_X = 16;
const LAYER_H = 104;
const PAD = 28;
const MOVE_MS = 450;
const FADE_MS = 400;  // matches the opacity transition in cluster.css

// Load 0 → green, 1 (every thread busy) → amber, ≥ 2 (as much queued again) → red.
export function loadHue(load) {
  const l = Math.max(0, Number.isFinite(load) ? load : 0);
  return l <= 1 ? 140 - 100 * l : Math.max(0, 40 - 40 * (l - 1));
}

const posNum = (key) => { const n = Number(key); return Number.isFinite(n) ? n : Infinity; };
const byPosition = (a, b) => posNum(a) - posNum(b) || (a < b ? -1 : a > b ? 1 : 0);
const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const ease = (t) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

// Pure layout: {key → {x, y, depth}}, edges and the drawing's size, from records and fanout.
export function layoutTree(records, fanout, selfKey, selfIdeal) {
  const nodes = new Map();
  for (const r of records) {
    const key = String(r?.position ?? '');
    if (key && !nodes.has(key)) nodes.set(key, r);
  }
  const parent = new Map();
  for (const [key, r] of nodes) {
    const sup = superiorOf(r);
    parent.set(key, sup !== null && sup !== key && nodes.has(sup) ? sup : null);
  }
  // Break cycles (records from different moments can disagree): the first node found on a
  // cycle becomes a root.
  for (const key of nodes.keys()) {
    const seen = new Set([key]);
    for (let p = parent.get(key); p !== null; p = parent.get(p)) {
      if (seen.has(p)) { parent.set(p, null); break; }
      seen.add(p);
    }
  }
  const children = new Map([...nodes.keys()].map((k) => [k, []]));
  const roots = [];
  for (const key of [...nodes.keys()].sort(byPosition)) {
    const p = parent.get(key);
    if (p === null) roots.push(key); else children.get(p).push(key);
  }
  // Tidy layout: leaves take consecutive slots, a parent is centred over its children.
  const place = new Map();
  let slot = 0, maxDepth = 0;
  const visit = (key, depth) => {
    maxDepth = Math.max(maxDepth, depth);
    const kids = children.get(key);
    let x;
    if (!kids.length) {
      x = slot++;
    } else {
      const xs = kids.map((k) => visit(k, depth + 1));
      x = (xs[0] + xs[xs.length - 1]) / 2;
    }
    place.set(key, { x, depth });
    return x;
  };
  for (const r of roots) visit(r, 0);

  const out = new Map();
  const edges = [];
  for (const [key, r] of nodes) {
    const { x, depth } = place.get(key);
    const sup = superiorOf(r);
    let ideal = key === selfKey && selfIdeal !== undefined ? selfIdeal : idealSuperior(posNum(key), fanout);
    ideal = ideal === null || ideal === undefined ? null : String(ideal);
    const reattached = sup !== null && ideal !== null && sup !== ideal;
    out.set(key, {
      key, record: r,
      x: PAD + BOX_W / 2 + x * (BOX_W + GAP_X),
      y: PAD + 14 + BOX_H / 2 + depth * LAYER_H,
      superior: sup, ideal, reattached,
      orphan: sup !== null && parent.get(key) === null,
    });
    if (parent.get(key) !== null) edges.push({ from: key, to: parent.get(key), kind: 'current' });
    if (reattached && nodes.has(ideal)) edges.push({ from: key, to: ideal, kind: 'ideal' });
  }
  return {
    nodes: out, edges,
    width: PAD * 2 + Math.max(1, slot) * BOX_W + Math.max(0, slot - 1) * GAP_X,
    height: PAD * 2 + 14 + BOX_H + maxDepth * LAYER_H,
  };
}

function edgePath(a, b) {
  const x1 = a.x, y1 = a.y - BOX_H / 2, x2 = b.x, y2 = b.y + BOX_H / 2;
  const my = (y1 + y2) / 2;
  return `M${x1.toFixed(1)},${y1.toFixed(1)} C${x1.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}`;
}

export class TreeView {
  constructor(container) {
    this.container = container;
    this.root = svg('svg.tree', { role: 'img', 'aria-labelledby': 'tree-title' });
    this.title = svg('title', { id: 'tree-title' }, 'Subordination tree');
    this.idealLayer = svg('g.edges-ideal');
    this.edgeLayer = svg('g.edges-current');
    this.nodeLayer = svg('g.nodes');
    this.root.append(this.title, this.idealLayer, this.edgeLayer, this.nodeLayer);
    container.append(this.root);
    this.items = new Map();   // key → {g, parts…, x, y, fromX, fromY, toX, toY}
    this.edges = new Map();   // "kind:from>to" → {path, from, to}
    this.anim = null;
    this.last = null;
    this.scrolled = false;
    this.fit = false;
    this.reduced = matchMedia('(prefers-reduced-motion: reduce)').matches;
    new ResizeObserver(() => { if (this.last) this.update(this.last, { animate: false }); }).observe(container);
  }

  update(cluster, { animate = true } = {}) {
    this.last = cluster;
    const selfKey = String(cluster?.self?.position ?? '');
    const records = Array.isArray(cluster?.nodes) ? [...cluster.nodes] : [];
    if (cluster?.self && !records.some((r) => String(r?.position) === selfKey)) records.unshift(cluster.self);
    const selfIdeal = cluster?.ideal_superior === undefined ? undefined : cluster.ideal_superior;
    const lay = layoutTree(records, Number(cluster?.fanout), selfKey, selfIdeal);

    const avail = Math.max(0, this.container.clientWidth - 2);
    const shift = Math.max(0, (avail - lay.width) / 2);
    const width = Math.max(lay.width, avail);
    // Fit: a tree wider than its box is scaled down to the box (wide fanouts) instead of scrolled.
    const scale = this.fit && width > avail && avail > 0 ? avail / width : 1;
    this.root.setAttribute('width', String(Math.floor(width * scale)));
    this.root.setAttribute('height', String(Math.ceil(lay.height * scale)));
    this.root.setAttribute('viewBox', `0 0 ${width} ${lay.height}`);
    this.root.dataset.scale = scale.toFixed(3);
    const n = lay.nodes.size, moved = [...lay.nodes.values()].filter((v) => v.reattached).length;
    this.title.textContent = `Subordination tree: ${n} node${n === 1 ? '' : 's'}${moved ? `, ${moved} re-attached` : ''}`;
    this.root.dataset.nodes = String(n);

    // Nodes: update or create; the ones not in the reply fade out.
    for (const [key, v] of lay.nodes) {
      const toX = v.x + shift, toY = v.y;
      let it = this.items.get(key);
      if (!it || it.leaving) {
        if (it) it.g.remove();
        const from = this.items.get(v.superior ?? '') ?? null;
        it = this.#createNode(key);
        it.x = from ? from.x : toX;
        it.y = from ? from.y : toY;
        this.items.set(key, it);
        requestAnimationFrame(() => it.g.classList.remove('entering'));
      }
      it.fromX = it.x; it.fromY = it.y; it.toX = toX; it.toY = toY;
      this.#fillNode(it, v, key === selfKey);
    }
    for (const [key, it] of this.items) {
      if (lay.nodes.has(key) || it.leaving) continue;
      it.leaving = true;
      it.g.classList.add('leaving');
      it.g.removeAttribute('data-position');
      it.g.dataset.leaving = key;
      setTimeout(() => { if (this.items.get(key) === it) { this.items.delete(key); it.g.remove(); } }, FADE_MS);
    }

    // Edges keyed by kind and ends.
    const want = new Map(lay.edges.map((e) => [`${e.kind}:${e.from}>${e.to}`, e]));
    for (const [id, e] of this.edges) {
      if (want.has(id)) continue;
      e.path.remove();
      this.edges.delete(id);
    }
    for (const [id, e] of want) {
      if (this.edges.has(id)) continue;
      const path = svg(`path.edge.${e.kind}`, { 'data-from': e.from, 'data-to': e.to });
      path.append(svg('title', {}, e.kind === 'ideal' ? `#${e.from}'s ideal superior is #${e.to}` : `#${e.from} → superior #${e.to}`));
      path.classList.add('entering');
      (e.kind === 'ideal' ? this.idealLayer : this.edgeLayer).append(path);
      requestAnimationFrame(() => path.classList.remove('entering'));
      this.edges.set(id, { path, from: e.from, to: e.to });
    }
    this.#animate(animate && !this.reduced);
    // The first time, bring this node into view when the tree is wider than its box.
    const self = lay.nodes.get(selfKey);
    if (!this.scrolled && self) {
      this.scrolled = true;
      this.container.scrollLeft = Math.max(0, self.x + shift - this.container.clientWidth / 2);
    }
  }

  setFit(fit) {
    this.fit = fit;
    if (this.last) this.update(this.last, { animate: false });
  }

  #createNode(key) {
    const g = svg('g.node.entering', { 'data-position': key });
    const link = svg('a.node-link');
    const tip = svg('title');
    const box = svg('rect.box', { x: -BOX_W / 2, y: -BOX_H / 2, width: BOX_W, height: BOX_H, rx: 7 });
    const barBg = svg('rect.bar-bg', { x: -BOX_W / 2 + 8, y: BOX_H / 2 - 9, width: BOX_W - 16, height: 4, rx: 2 });
    const bar = svg('rect.bar', { x: -BOX_W / 2 + 8, y: BOX_H / 2 - 9, width: 0, height: 4, rx: 2 });
    const pos = svg('text.pos', { x: -BOX_W / 2 + 8, y: -BOX_H / 2 + 16 });
    const badge = svg('text.badge', { x: BOX_W / 2 - 8, y: -BOX_H / 2 + 16, 'text-anchor': 'end' });
    const addr = svg('text.addr', { x: -BOX_W / 2 + 8, y: -BOX_H / 2 + 31 });
    const meta = svg('text.meta', { x: -BOX_W / 2 + 8, y: -BOX_H / 2 + 45 });
    const here = svg('text.here', { x: 0, y: -BOX_H / 2 - 6, 'text-anchor': 'middle' });
    link.append(tip, box, barBg, bar, pos, badge, addr, meta);
    g.append(here, link);
    this.nodeLayer.append(g);
    return { g, link, tip, box, bar, pos, badge, addr, meta, here, leaving: false };
  }

  #fillNode(it, v, isSelf) {
    const r = v.record ?? {};
    const load = typeof r.load === 'number' ? r.load : null;
    const hue = loadHue(load ?? 0);
    const g = it.g;
    g.classList.toggle('self', isSelf);
    g.classList.toggle('reattached', v.reattached);
    g.classList.toggle('orphan', v.orphan);
    g.dataset.superior = v.superior ?? '';
    g.dataset.ideal = v.ideal ?? '';
    g.dataset.load = load === null ? '' : String(load);
    it.box.style.fill = `hsl(${hue} 65% 45% / ${load === null ? 0.06 : (0.1 + 0.3 * Math.min(1, load / 2)).toFixed(3)})`;
    it.bar.style.fill = `hsl(${hue} 70% 45%)`;
    it.bar.setAttribute('width', String(((BOX_W - 16) * Math.min(1, Math.max(0, load ?? 0))).toFixed(1)));
    it.pos.textContent = `#${v.key}`;
    const endpoint = typeof r.endpoint === 'string' ? r.endpoint : '';
    it.addr.textContent = clip(endpoint || '—', 21);
    const jobs = typeof r.jobs === 'number' && r.jobs > 0 ? ` · ${r.jobs} job${r.jobs === 1 ? '' : 's'}` : '';
    it.meta.textContent = `load ${formatLoad(load)} · ${formatInt(r.threads)} thr${jobs}`;
    it.badge.textContent = v.reattached ? `ideal #${v.ideal}` : v.orphan ? `sup. #${v.superior}?` : '';
    it.here.textContent = isSelf ? 'this node' : '';
    const lines = [`#${v.key} ${endpoint}`];
    if (typeof r.hostname === 'string' && r.hostname) lines.push(`host ${r.hostname}`);
    lines.push(v.superior === null ? 'root (no superior)' : `superior #${v.superior}${v.orphan ? ' (not known here)' : ''}`);
    if (v.reattached) lines.push(`re-attached: its ideal superior is #${v.ideal}`);
    lines.push(`load ${formatLoad(load)}, ${formatInt(r.threads)} threads, ${formatInt(r.jobs)} jobs`);
    const url = isSelf ? null : nodeUrl(r.http);
    if (url) lines.push(`click: monitoring page ${url}`);
    it.tip.textContent = lines.join('\n');
    if (url) it.link.setAttribute('href', url); else it.link.removeAttribute('href');
  }

  #draw(t) {
    for (const it of this.items.values()) {
      if (it.toX === undefined) continue;
      it.x = it.fromX + (it.toX - it.fromX) * t;
      it.y = it.fromY + (it.toY - it.fromY) * t;
      it.g.setAttribute('transform', `translate(${it.x.toFixed(1)},${it.y.toFixed(1)})`);
    }
    for (const e of this.edges.values()) {
      const a = this.items.get(e.from), b = this.items.get(e.to);
      if (a && b) e.path.setAttribute('d', edgePath(a, b));
    }
  }

  #animate(animate) {
    if (this.anim) cancelAnimationFrame(this.anim);
    this.anim = null;
    if (!animate) { this.#draw(1); return; }
    const start = performance.now();
    const step = (now) => {
      const t = Math.min(1, (now - start) / MOVE_MS);
      this.#draw(ease(t));
      this.anim = t < 1 ? requestAnimationFrame(step) : null;
    };
    this.#draw(0);
    this.anim = requestAnimationFrame(step);
  }
}
