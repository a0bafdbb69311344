// Layered left-to-right layout of a fluxion graph: longest-path layering from the fluxions with
// no incoming stream. Cycles (a fluxion streaming back upstream, or to itself) are broken by a
// depth-first search from those sources: an edge into a fluxion still on the search stack is a
// back edge, drawn around the boxes and ignored for layering. Within a layer, fluxions are
// ordered by the mean position of their predecessors (one barycentre pass), then by input order.
// Pure: no DOM, so it is easy to reason about (and to test from node).

// fluxions: [{id, streams: [{dest: [id…]}]}] already sanitised (ids are unique strings).
// Returns {layers: [[id…]…], layerOf: Map id→layer, indexOf: Map id→index in its layer,
//          back: Set of "from\u0000to" keys}.
export function layoutLayers(fluxions) {
  const ids = fluxions.map((f) => f.id);
  const known = new Set(ids);
  const out = new Map(ids.map((id) => [id, []]));
  const incoming = new Map(ids.map((id) => [id, 0]));
  for (const f of fluxions) {
    for (const s of f.streams) {
      for (const d of s.dest) {
        if (!known.has(d)) continue;
        if (!out.get(f.id).includes(d)) out.get(f.id).push(d);
        if (d !== f.id) incoming.set(d, incoming.get(d) + 1);
      }
    }
  }
  // Depth-first search from the sources (then from anything left: a cycle with no source).
  const state = new Map();  // id → 1 on stack, 2 done
  const back = new Set();
  const order = [];         // reverse post-order = a topological order of the forward edges
  const visit = (root) => {
    const stack = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [id, i] = top;
      const next = out.get(id)[i];
      if (next === undefined) {
        state.set(id, 2);
        order.push(id);
        stack.pop();
        continue;
      }
      top[1]++;
      const st = state.get(next);
      if (st === 1) back.add(`${id}\u0000${next}`);
      else if (st === undefined) { state.set(next, 1); stack.push([next, 0]); }
    }
  };
  for (const id of ids) if (incoming.get(id) === 0 && !state.has(id)) visit(id);
  for (const id of ids) if (!state.has(id)) visit(id);
  order.reverse();

  const layerOf = new Map(ids.map((id) => [id, 0]));
  for (const id of order) {
    for (const d of out.get(id)) {
      if (back.has(`${id}\u0000${d}`) || d === id) continue;
      layerOf.set(d, Math.max(layerOf.get(d), layerOf.get(id) + 1));
    }
  }
  const layers = [];
  for (const id of ids) {
    const l = layerOf.get(id);
    while (layers.length <= l) layers.push([]);
    layers[l].push(id);
  }
  // One barycentre pass, layer by layer, so chains stay level.
  const indexOf = new Map();
  const preds = new Map(ids.map((id) => [id, []]));
  for (const [from, ds] of out) for (const d of ds) if (layerOf.get(from) < layerOf.get(d)) preds.get(d).push(from);
  const inputIndex = new Map(ids.map((id, i) => [id, i]));
  layers.forEach((layer, l) => {
    if (l > 0) {
      const key = (id) => {
        const p = preds.get(id);
        return p.length ? p.reduce((a, q) => a + indexOf.get(q), 0) / p.length : Infinity;
      };
      const keys = new Map(layer.map((id) => [id, key(id)]));
      layer.sort((a, b) => (keys.get(a) - keys.get(b)) || (inputIndex.get(a) - inputIndex.get(b)));
    }
    layer.forEach((id, i) => indexOf.set(id, i));
  });
  return { layers, layerOf, indexOf, back };
}
