// /s/<id>: a session's summary and, for its streamer once it ended, one rating form per
// participant (five criteria, 1–5 stars, optional comment; editable for 24 h), and the video
// recording when the session has one (FLV through mpegts.js).
import { api, ApiError, enc, showError } from './api.js';
import { el, $, pathArg, userLink, userName, stars, formatDuration, formatDateTime, formatBytes, timeAgo, toast } from './dom.js';
import { initNav } from './auth.js';
import { CRITERIA } from './criteria.js';
import { loadMpegts, mseSupports } from './media_libs.js';

const id = pathArg();
let me = null;
let session = null;

function starInput(criterion, label, value, reviewer, disabled) {
  const fs = el('fieldset.star-input', { disabled }, el('legend', {}, label));
  const radios = el('span.star-radios');
  // Reversed DOM order so CSS can colour "this star and the ones before it" (~ sibling).
  for (let v = 5; v >= 1; v--) {
    const idAttr = `r-${reviewer}-${criterion}-${v}`;
    const input = el('input', { type: 'radio', name: `${reviewer}-${criterion}`, id: idAttr, value: String(v), required: true });
    if (value === v) input.checked = true;
    radios.append(input, el('label', { for: idAttr, title: `${v} of 5` }, '★', el('span.sr-only', {}, `${v} star${v === 1 ? '' : 's'}`)));
  }
  fs.append(radios);
  return fs;
}

function ratingForm(user, rating) {
  const closed = rating && Date.now() > new Date(rating.editable_until).getTime();
  const form = el('form.card.rate-card', { novalidate: true, 'data-reviewer': user.name, 'aria-label': `Rate ${userName(user)}` });
  const head = el('h3', {}, userLink(user));
  if (rating) head.append(stars(rating.overall, { label: 'overall' }), el('span.muted.small', {}, closed
    ? 'rating final (the 24 h edit window closed)' : `rated — you can edit until ${formatDateTime(rating.editable_until)}`));
  form.append(head);
  for (const [key, label] of CRITERIA) form.append(starInput(key, label, rating?.[key] ?? null, user.name, closed));
  const cid = `c-${user.name}`;
  form.append(el('div.field', {},
    el('label', { for: cid }, 'Comment ', el('span.muted', {}, '(optional, shown on their profile)')),
    el('textarea', { id: cid, name: 'comment', rows: 2, maxlength: 2000, disabled: closed, text: rating?.comment ?? '' })));
  const error = el('p.error', { role: 'alert', hidden: true });
  const ok = el('p.success', { role: 'status' });
  const submit = el('button', { type: 'submit', disabled: closed }, rating ? 'Update rating' : 'Save rating');
  form.append(error, el('div.row', {}, submit, ok));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    for (const [key, label] of CRITERIA) {
      const checked = form.querySelector(`input[name="${user.name}-${key}"]:checked`);
      if (!checked) { showError(error, new Error(`Give "${label}" one to five stars.`)); return; }
      body[key] = Number(checked.value);
    }
    const comment = form.querySelector('textarea').value.trim();
    if (comment) body.comment = comment;
    showError(error, null);
    submit.disabled = true;
    try {
      const saved = await api(`/sessions/${enc(id)}/ratings/${enc(user.name)}`, { method: 'PUT', body });
      toast(`Rating for ${userName(user)} saved`, 'ok');
      form.replaceWith(ratingForm(user, saved));
      // The summary (ratings count, participants' stars) follows; the forms are rebuilt from it.
      try { await load(); } catch { /* the form above already shows the saved rating */ }
      document.querySelector(`form[data-reviewer="${CSS.escape(user.name)}"] .success`).textContent = 'Saved ✓';
    } catch (err) {
      showError(error, err);
      submit.disabled = false;
    }
  });
  return form;
}

function ratingView(r) {
  return el('div.card', {},
    el('h3', {}, 'From ', userLink(r.by), ' ', stars(r.overall, { label: 'overall' }), ` ${Number(r.overall).toFixed(1)}`),
    el('div.bars', {}, CRITERIA.map(([key, label]) => el('div.bar-row', {},
      el('span', {}, label), stars(r[key], { label }), el('span.num', {}, String(r[key]))))),
    r.comment ? el('p.review-quote', {}, r.comment) : null);
}

function render() {
  const s = session;
  const live = !s.ended_at;
  document.title = `Session on ${s.channel} · Chiron`;
  $('session-title').replaceChildren('Session on ', el('a', { href: `/c/${enc(s.channel)}` }, s.channel));
  $('session-state').className = live ? 'pill pill-live' : 'pill';
  $('session-state').textContent = live ? 'LIVE' : 'ended';
  $('session-when').textContent = `Started ${formatDateTime(s.started_at)}` +
    (s.ended_at ? ` · ended ${formatDateTime(s.ended_at)} (${timeAgo(s.ended_at)})` : ' · still running') +
    (s.source === 'rtmp' ? ' · video session' : '');
  $('stat-duration').textContent = formatDuration(s.duration_s ?? 0);
  $('stat-participants').textContent = String(s.participants?.length ?? 0);
  $('stat-chat').textContent = String(s.chat_messages ?? 0);
  $('stat-files').textContent = String(s.files_touched ?? 0);
  $('stat-comments').textContent = String(s.comments ?? 0);
  $('stat-ratings').textContent = String(s.ratings ?? 0);
  const ratings = new Map((s.ratings_list ?? []).map((r) => [r.reviewer.name, r]));
  $('participants').replaceChildren(...(s.participants ?? []).map((u) => {
    const r = ratings.get(u.name);
    return el('li.list-item', {}, el('span.avatar', { 'aria-hidden': 'true' }, userName(u).slice(0, 1).toUpperCase()),
      el('div.grow', {}, userLink(u)), r ? stars(r.overall, { label: 'rated' }) : el('span.muted.small', {}, 'not rated'));
  }));
  $('participants-empty').hidden = (s.participants?.length ?? 0) > 0;

  const owner = me && me.user.name === s.channel;
  $('rate-section').hidden = !owner || !(s.participants?.length);
  if (owner) {
    if (live) {
      $('rate-intro').textContent = 'You can rate your reviewers once the session has ended.';
      $('rate-forms').replaceChildren();
    } else {
      $('rate-forms').replaceChildren(...(s.participants ?? []).map((u) => ratingForm(u, ratings.get(u.name))));
    }
  }
  const mine = !owner && me ? (s.ratings_list ?? []).filter((r) => r.reviewer.name === me.user.name) : [];
  $('ratings-section').hidden = mine.length === 0;
  $('ratings-list').replaceChildren(...mine.map(ratingView));
}

// {url, bytes, duration_s}: a non-live FLV; mpegts.js seeks in it with Range requests.
let recordingUrl = null;
let recordingPlayer = null;
async function showRecording(rec) {
  if (!rec?.url || rec.url === recordingUrl) return;
  recordingUrl = rec.url;
  $('recording').hidden = false;
  const info = $('recording-info');
  const url = new URL(rec.url, location.href).href;
  info.replaceChildren(`${formatDuration(rec.duration_s ?? 0)}`, rec.bytes ? ` · ${formatBytes(rec.bytes)}` : '', ' · ',
                       el('a', { href: url, download: `session-${id}.flv` }, 'download (FLV)'));
  const video = $('recording-video');
  try {
    if (!mseSupports()) throw new Error('this browser has no Media Source Extensions for H.264');
    const mpegts = await loadMpegts();
    if (!mpegts.getFeatureList().msePlayback) throw new Error('mpegts.js cannot play here');
    recordingPlayer?.destroy();
    recordingPlayer = mpegts.createPlayer({ type: 'flv', isLive: false, url,
                                            duration: rec.duration_s ? rec.duration_s * 1000 : undefined });
    recordingPlayer.on(mpegts.Events.ERROR, (type, detail) => {
      info.prepend(el('span.error.small', {}, `The recording could not be played (${type}: ${detail}). `));
    });
    recordingPlayer.attachMediaElement(video);
    recordingPlayer.load();
  } catch (err) {
    video.hidden = true;
    info.prepend(`The recording cannot play in this page (${err.message}); download it instead: `);
  }
}

async function load() {
  const s = await api(`/sessions/${enc(id)}`);
  s.ratings_list = s.ratings ?? [];
  s.ratings = Array.isArray(s.ratings) ? s.ratings.length : s.ratings;
  session = s;
  render();
  // The session JSON may carry `recording`; otherwise an ended video session may have one at
  // GET /sessions/:id/recording (404 when it has none).
  if (!s.recording && s.ended_at && s.source === 'rtmp' && !recordingUrl) {
    s.recording = await api(`/sessions/${enc(id)}/recording`).catch(() => null);
  }
  showRecording(s.recording);
}

async function main() {
  me = await initNav();
  try {
    await load();
    $('session').hidden = false;
  } catch (err) {
    const msg = err instanceof ApiError && err.status === 404 ? 'There is no such session (or it is on a private channel).' : err.message;
    showError($('session-error'), new Error(msg));
    return;
  }
  // A live session's page follows it until it ends. Polled, not the live WebSocket: opening
  // that socket would make a reader a participant of the session.
  const poll = setInterval(async () => {
    if (session.ended_at) { clearInterval(poll); return; }
    try { await load(); } catch { /* keep the last view */ }
  }, 10000);
}

// body[data-ready] tells tests that the first render is complete.
main().finally(() => { document.body.dataset.ready = 'true'; });
