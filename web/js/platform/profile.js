// /u/<name>: a reviewer's aggregates per criterion and the monthly trend (uPlot line chart, one
// series per criterion plus overall; global `uPlot` from /vendor/uplot/).
import { api, ApiError, enc, showError } from './api.js';
import { el, $, pathArg, userLink, userName, stars, timeAgo } from './dom.js';
import { initNav } from './auth.js';
import { CRITERIA } from './criteria.js';

const name = pathArg();
const COLORS = { overall: '#e3b341', expertise: '#58a6ff', helpfulness: '#3fb950', clarity: '#bc8cff', examples: '#ff7b72', timeliness: '#39c5cf' };

function bars(summary) {
  return CRITERIA.map(([key, label]) => {
    const v = Number(summary?.[key]) || 0;
    const fill = el('span');
    fill.style.width = `${(v / 5) * 100}%`;
    return el('div.bar-row', { 'data-criterion': key }, el('span', {}, label),
      el('div.bar', { role: 'meter', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 5, 'aria-valuenow': v.toFixed(2) }, fill),
      el('span.num', {}, v ? v.toFixed(1) : '—'));
  });
}

// "2026-11" → unix seconds of the month's first day (UTC).
const monthStart = (m) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1) / 1000;
const monthLabel = (t) => new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });

const showLatest = (u) => u.setLegend({ idx: u.data[0].length - 1 });

function chart(monthly) {
  const box = $('chart');
  box.replaceChildren();
  if (!monthly.length || typeof uPlot === 'undefined') {
    $('chart-empty').hidden = false;
    if (monthly.length) $('chart-empty').textContent = 'The chart library did not load; the table below has the numbers.';
    return;
  }
  const rows = [...monthly].sort((a, b) => a.month.localeCompare(b.month));
  const keys = ['overall', ...CRITERIA.map(([k]) => k)];
  const labels = { overall: 'Overall', ...Object.fromEntries(CRITERIA) };
  const data = [rows.map((r) => monthStart(r.month)), ...keys.map((k) => rows.map((r) => (r[k] == null ? null : Number(r[k]))))];
  const css = getComputedStyle(document.documentElement);
  const axis = { stroke: css.getPropertyValue('--muted').trim() || '#8b949e', grid: { stroke: css.getPropertyValue('--border').trim() || '#30363d', width: 1 } };
  const width = Math.max(280, box.clientWidth || 560);
  const opts = {
    width, height: 280,
    // Half a month of margin on both sides, so a single month is a point in the middle.
    scales: { x: { time: true, range: () => [data[0][0] - 15 * 86400, data[0][data[0].length - 1] + 15 * 86400] },
              y: { range: [0, 5] } },
    axes: [{ ...axis, splits: () => data[0], values: (u, ticks) => ticks.map(monthLabel), space: 70 },
           { ...axis, values: (u, ticks) => ticks.map((t) => t.toFixed(0)), incrs: [1] }],
    series: [{ value: (u, t) => (t == null ? '' : monthLabel(t)) },
      ...keys.map((k) => ({ label: labels[k], stroke: COLORS[k], width: k === 'overall' ? 3 : 1.5,
        points: { show: true, size: k === 'overall' ? 8 : 6, fill: COLORS[k] },
        value: (u, v) => (v == null ? '—' : v.toFixed(2)) }))],
    legend: { live: true },
    // The legend shows the latest month unless the pointer is over another one.
    hooks: { ready: [showLatest], setCursor: [(u) => { if (u.cursor.idx == null) showLatest(u); }] },
  };
  // eslint-disable-next-line no-undef, new-cap
  const plot = new uPlot(opts, data, box);
  new ResizeObserver(() => plot.setSize({ width: Math.max(280, box.clientWidth), height: 280 })).observe(box);
  // The same numbers as a table for screen readers.
  $('monthly-table').querySelector('thead').replaceChildren(el('tr', {}, el('th', {}, 'Month'), keys.map((k) => el('th', {}, labels[k]))));
  $('monthly-table').querySelector('tbody').replaceChildren(...rows.map((r) => el('tr', {}, el('td', {}, r.month),
    keys.map((k) => el('td', {}, r[k] == null ? '—' : Number(r[k]).toFixed(2))))));
}

async function main() {
  await initNav();
  let p;
  try {
    p = await api(`/reviewers/${enc(name)}`);
  } catch (err) {
    showError($('profile-error'), new Error(err instanceof ApiError && err.status === 404 ? `There is no user "${name}".` : err.message));
    return;
  }
  $('profile').hidden = false;
  const u = p.user;
  document.title = `${userName(u)} · reviewer · Chiron`;
  $('p-avatar').textContent = userName(u).slice(0, 1).toUpperCase();
  $('p-name').textContent = userName(u);
  $('p-handle').textContent = u.name;
  $('p-channel').href = `/c/${enc(u.name)}`;
  $('p-channel').textContent = 'their channel';
  const s = p.summary ?? {};
  const count = Number(s.count) || 0;
  $('p-overall').textContent = count ? Number(s.overall).toFixed(2) : '—';
  $('p-overall-stars').replaceChildren(stars(count ? s.overall : 0, { label: 'overall' }));
  $('p-count').textContent = `${count} rating${count === 1 ? '' : 's'}`;
  $('criteria').replaceChildren(...bars(count ? s : null));
  $('criteria-empty').hidden = count > 0;
  chart(p.monthly ?? []);
  const recent = (p.recent ?? []).filter((r) => r.comment || r.overall);
  $('recent').replaceChildren(...recent.map((r) => el('li.list-item', {},
    el('div.grow', {},
      el('div', {}, stars(r.overall, { label: 'overall' }), ' ', el('strong', {}, Number(r.overall).toFixed(1)), ' from ', userLink(r.by),
        el('span.muted.small', {}, ` · ${timeAgo(r.updated_at || r.created_at)} · `),
        el('a.small', { href: `/s/${enc(r.session_id)}` }, 'session')),
      r.comment ? el('p.review-quote', {}, r.comment) : null))));
  $('recent-empty').hidden = recent.length > 0;
}

// body[data-ready] tells tests that the first render is complete.
main().finally(() => { document.body.dataset.ready = 'true'; });
