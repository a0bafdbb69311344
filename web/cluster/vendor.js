// Loads uPlot (served from node_modules by the node, never a CDN). The house path is
// /vendor/uplot/<file> (node_modules/uplot/dist mapped to /vendor/uplot/, as `chiron serve` and
// `chiron ns` do); /vendor/uplot/dist/<file> is tried next. Resolves with the global uPlot, or
// null when neither answers — the page then works without its chart.

const BASES = ['/vendor/uplot/', '/vendor/uplot/dist/'];

function addScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => { s.remove(); reject(new Error(`cannot load ${src}`)); };
    document.head.append(s);
  });
}

export async function loadUplot() {
  if (window.uPlot) return window.uPlot;
  for (const base of BASES) {
    try {
      await addScript(`${base}uPlot.iife.min.js`);
      if (!window.uPlot) continue;
      document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href: `${base}uPlot.min.css` }));
      return window.uPlot;
    } catch { /* try the next base */ }
  }
  return null;
}
