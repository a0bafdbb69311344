// The SVG drawing of a fluxion graph: one box per fluxion (id, tag chips coloured per group,
// device and replicas, context variables), one arrow per stream and destination (a double
// arrowhead for start `>>`, a single one for post `->`) labelled with the message variables and
// the current rate, its width growing with the rate. Redrawn whole on every poll: the layout
// is deterministic, so an unchanged graph does not move.
import { svg, formatRate, tagHue } from './dom.js';
import { layoutLayers } from './graph_layout.js';

const PAD = 24;
const PAD_LEFT = 64;     // room for arrows coming back into the first layer
const GAP_X = 190;        // room between layers for the arrow labels
const GAP_Y = 30;
const MIN_W = 150, MAX_W = 320;
const ID_CHARS = 30, LINE_CHARS = 40, VARS_CHARS = 24;
const LANE_H = 20;
const CHAR_ID = 8.2, CHAR_SMALL = 6.4;   // estimated glyph widths (monospace 13.5px / 10.5px)
const CHIP_H = 16, CHIP_GAP = 4;

const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// Box geometry and the lines inside it; chips are wrapped to the box width.
function measure(f) {
  const id = clip(f.id, ID_CHARS);
  const meta = [f.device || 'device ?', f.replicas === null ? null : `×${f.replicas}`].filter(Boolean).join(' · ');
  const ctx = f.ctx.length ? clip(`{${f.ctx.join(', ')}}`, LINE_CHARS) : '';
  const chipW = (t) => clip(t, 24).length * CHAR_SMALL + 12;
  let w = Math.max(id.length * CHAR_ID, meta.length * CHAR_SMALL, ctx.length * CHAR_SMALL,
                   ...f.tags.map(chipW)) + 20;
  w = Math.min(MAX_W, Math.max(MIN_W, Math.ceil(w)));
  const chips = [];
  let x = 10, row = 0;
  for (const t of f.tags) {
    const cw = Math.min(chipW(t), w - 20);
    if (x + cw > w - 10 && x > 10) { x = 10; row++; }
    chips.push({ tag: t, label: clip(t, 24), x, row, w: cw });
    x += cw + CHIP_GAP;
  }
  const rows = f.tags.length ? row + 1 : 0;
  const h = 28 + rows * (CHIP_H + CHIP_GAP) + 16 + (ctx ? 16 : 0) + 6;
  return { id, meta, ctx, chips, rows, w, h };
}

// Arrowheads sit between the end of the line and the box (refX 0), so a thick line never hides them.
const HEAD = { start: 20, post: 10 };
function markers() {
  const head = (type) => svg('marker', {
    id: `flx-head-${type}`, viewBox: `0 0 ${HEAD[type]} 10`, refX: 0, refY: 5,
    markerWidth: HEAD[type], markerHeight: 10, markerUnits: 'userSpaceOnUse', orient: 'auto',
  }, svg(`path.flx-head.${type}`, { d: type === 'start' ? 'M0,0 L10,5 L0,10 Z M10,0 L20,5 L10,10 Z' : 'M0,0 L10,5 L0,10 Z' }));
  return svg('defs', {}, head('start'), head('post'));
}

export class GraphView {
  constructor(container) {
    this.container = container;
    this.root = svg('svg.flx-graph', { role: 'img', 'aria-labelledby': 'flx-graph-title' });
    this.container.append(this.root);
  }

  // fluxions: sanitised (graph.js); returns nothing. Arrows to unknown ids are not drawn.
  update(fluxions) {
    const { layers, layerOf, back } = layoutLayers(fluxions);
    const byId = new Map(fluxions.map((f) => [f.id, f]));
    const box = new Map();
    let x = PAD_LEFT, height = 0;
    for (const layer of layers) {
      const ms = layer.map((id) => measure(byId.get(id)));
      const colW = Math.max(MIN_W, ...ms.map((m) => m.w));
      let y = PAD;
      layer.forEach((id, i) => {
        box.set(id, { ...ms[i], x, y, w: colW });
        y += ms[i].h + GAP_Y;
      });
      height = Math.max(height, y - GAP_Y + PAD);
      x += colW + GAP_X;
    }
    const width = Math.max(x - GAP_X + PAD, 2 * PAD);

    // Edges: one per (stream, destination); ends spread over the boxes' sides.
    const edges = [];
    const outCount = new Map(), inCount = new Map();
    for (const f of fluxions) {
      f.streams.forEach((s, si) => {
        for (const d of s.dest) {
          if (!box.has(d)) continue;
          edges.push({ from: f.id, to: d, s, si, outK: outCount.get(f.id) ?? 0, inK: inCount.get(d) ?? 0 });
          outCount.set(f.id, (outCount.get(f.id) ?? 0) + 1);
          inCount.set(d, (inCount.get(d) ?? 0) + 1);
        }
      });
    }
    const maxRate = Math.max(0, ...edges.map((e) => e.s.rate ?? 0));
    // Arrows between neighbouring layers run straight across the gap, labelled there on two
    // lines; the others (skipping layers, going back, or looping) leave the box, run along their
    // own lane below every box and come back up, labelled on the lane, so they never cross a box.
    let lane = 0;
    const lanesTop = height + 6;
    let bottom = height;
    const edgeEls = edges.map((e) => {
      const a = box.get(e.from), b = box.get(e.to);
      const x1 = a.x + a.w, y1 = a.y + (a.h * (e.outK + 1)) / (outCount.get(e.from) + 1);
      const x2 = b.x - HEAD[e.s.type], y2 = b.y + (b.h * (e.inK + 1)) / (inCount.get(e.to) + 1);
      const isBack = back.has(`${e.from}\u0000${e.to}`) || e.from === e.to || layerOf.get(e.to) <= layerOf.get(e.from);
      const laned = isBack || layerOf.get(e.to) - layerOf.get(e.from) > 1;
      const rate = e.s.rate;
      const start = e.s.type === 'start';
      const vars = e.s.vars.length ? `[${clip(e.s.vars.join(', '), VARS_CHARS)}]` : '';
      const rateText = rate === null ? '— msg/s' : `${formatRate(rate)} msg/s`;
      let d, label;
      if (!laned) {
        const dx = Math.max(40, (x2 - x1) / 2);
        d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
        const lx = (x1 + x2) / 2, ly = (y1 + y2) / 2 - 16;
        label = svg('text.flx-label', { x: lx, y: ly, 'text-anchor': 'middle' },
          svg('tspan.flx-arrow', {}, start ? '>> ' : '-> '),
          vars ? svg('tspan.flx-vars', {}, vars) : null,
          svg('tspan.flx-rate', { x: lx, dy: 12 }, rateText));
      } else {
        const yl = lanesTop + 22 + LANE_H * lane++;
        bottom = Math.max(bottom, yl + PAD);
        d = `M${x1},${y1} C${x1 + 30},${y1} ${x1 + 10},${yl} ${x1 + 40},${yl} ` +
            `L${x2 - 40},${yl} C${x2 - 10},${yl} ${x2 - 30},${y2} ${x2},${y2}`;
        // Labelled next to its source (the lane may be wider than the view): rightwards for a
        // forward lane, leftwards for one going back.
        const forward = x2 - 40 > x1 + 40;
        label = svg('text.flx-label', { x: forward ? x1 + 48 : x1 + 36, y: yl - 5, 'text-anchor': forward ? 'start' : 'end' },
          svg('tspan.flx-arrow', {}, start ? '>> ' : '-> '),
          svg('tspan.flx-to', {}, `${clip(e.to, ID_CHARS)} `),
          vars ? svg('tspan.flx-vars', {}, `${vars} `) : null,
          svg('tspan.flx-rate', {}, rateText));
      }
      const strokeW = maxRate > 0 && rate > 0 ? 1.4 + 5 * Math.sqrt(rate / maxRate) : 1.4;
      const g = svg(`g.flx-edge.${start ? 'start' : 'post'}${rate > 0 ? '' : '.idle'}${isBack ? '.back' : ''}${laned ? '.laned' : ''}`,
        { 'data-from': e.from, 'data-to': e.to, 'data-type': e.s.type, 'data-stream': e.si },
        svg('title', {}, `${e.from} ${start ? '>>' : '->'} ${e.to}${vars ? ` ${vars}` : ''}: ` +
            `${e.s.messages === null ? '—' : e.s.messages} messages, ${formatRate(rate)} msg/s`),
        svg('path.flx-line', { d, 'stroke-width': strokeW.toFixed(2), 'marker-end': `url(#flx-head-${start ? 'start' : 'post'})` }),
        label);
      return g;
    });

    const nodeEls = fluxions.map((f) => {
      const m = box.get(f.id);
      const g = svg('g.flx-node', { 'data-id': f.id, transform: `translate(${m.x},${m.y})` });
      g.append(
        svg('title', {}, [f.id, f.tags.length ? `& ${f.tags.join(', ')}` : '', f.ctx.length ? `{${f.ctx.join(', ')}}` : '']
          .filter(Boolean).join(' ')),
        svg('rect.box', { width: m.w, height: m.h, rx: 7 }),
        svg('text.flx-id', { x: 10, y: 20 }, m.id));
      for (const c of m.chips) {
        g.append(svg('g.flx-tag', { 'data-tag': c.tag, transform: `translate(${c.x},${28 + c.row * (CHIP_H + CHIP_GAP)})` },
          svg('rect', { width: c.w, height: CHIP_H, rx: 8, fill: `hsl(${tagHue(c.tag)} 55% 40%)` }),
          svg('text', { x: 6, y: 12 }, c.label)));
      }
      let y = 28 + m.rows * (CHIP_H + CHIP_GAP) + 12;
      g.append(svg('text.flx-meta', { x: 10, y }, m.meta));
      if (m.ctx) { y += 16; g.append(svg('text.flx-ctx', { x: 10, y }, m.ctx)); }
      return g;
    });

    const n = fluxions.length;
    this.root.replaceChildren(
      svg('title', { id: 'flx-graph-title' }, `Fluxion graph: ${n} fluxion${n === 1 ? '' : 's'}, ${edges.length} arrow${edges.length === 1 ? '' : 's'}`),
      markers(), svg('g.flx-edges', {}, edgeEls), svg('g.flx-nodes', {}, nodeEls));
    this.root.setAttribute('width', String(Math.ceil(width)));
    this.root.setAttribute('height', String(Math.ceil(bottom)));
    this.root.setAttribute('viewBox', `0 0 ${Math.ceil(width)} ${Math.ceil(bottom)}`);
    this.root.style.minWidth = `${Math.ceil(width * 0.5)}px`;
    this.root.dataset.fluxions = String(n);
    this.root.dataset.edges = String(edges.length);
  }
}
