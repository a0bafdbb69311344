// DOM and formatting helpers for the platform pages. User text only ever goes through
// textContent (el(), text children); nothing here parses HTML.

// el('a.link', {href: '/x'}, 'text', child…): tag with optional .classes, attributes
// (on* keys become listeners, dataset via data-*), children as nodes or text.
export function el(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const e = document.createElement(tag || 'div');
  if (classes.length) e.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = String(v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const $ = (id) => document.getElementById(id);

// The last segment of /c/<name>, /u/<name>, /s/<id> (decoded), or ''.
export function pathArg() {
  const parts = location.pathname.split('/').filter(Boolean);
  try { return decodeURIComponent(parts[1] ?? ''); } catch { return ''; }
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
export const formatDateTime = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');
export const formatTime = (t) => timeOnly.format(new Date(t));

// 3725 → "1:02:05", 65 → "1:05".
export function formatClock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

// 3725 → "1 h 2 min", 42 → "42 s".
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
}

const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
export function timeAgo(iso) {
  if (!iso) return '';
  const diff = (new Date(iso).getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  if (abs < 60) return rel.format(Math.round(diff), 'second');
  if (abs < 3600) return rel.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rel.format(Math.round(diff / 3600), 'hour');
  return rel.format(Math.round(diff / 86400), 'day');
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// plural(1, 'comment') → "1 comment"; plural(2, 'reply', 'replies') → "2 replies".
export const plural = (n, one, many = `${one}s`) => `${Number(n) || 0} ${Number(n) === 1 ? one : many}`;

export const userName = (u) => (u ? u.display_name || u.name : '');

// A link to a user's profile: display name with @name in the title.
export function userLink(u, className = 'user-link') {
  if (!u) return el('span.muted', {}, 'unknown');
  return el(`a.${className}`, { href: `/u/${encodeURIComponent(u.name)}`, title: `@${u.name}` }, userName(u));
}

// A star strip for a 1..5 score (decimals shown as a partial fill), with a text equivalent.
export function stars(score, { label = 'rating' } = {}) {
  const v = Number(score) || 0;
  const box = el('span.stars', { role: 'img', 'aria-label': `${label}: ${v.toFixed(1)} of 5` });
  const fill = el('span.stars-fill', { 'aria-hidden': 'true' }, '★★★★★');
  fill.style.width = `${Math.max(0, Math.min(5, v)) * 20}%`;
  box.append(el('span.stars-bg', { 'aria-hidden': 'true' }, '★★★★★'), fill);
  return box;
}

// A transient message in a polite live region at the bottom of the page.
export function toast(message, kind = 'info', ms = 4000) {
  let region = $('toasts');
  if (!region) {
    region = el('div.toasts', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const t = el(`div.toast.toast-${kind}`, {}, message);
  region.append(t);
  setTimeout(() => t.remove(), ms);
}

export async function copyText(text, what = 'Copied') {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} to the clipboard`, 'ok', 2000);
  } catch {
    toast('Copy failed: select the text and copy it by hand', 'bad');
  }
}
