// /c/<name>: the channel page. Loads the channel, then keeps it current from the live events
// WebSocket (files, comments, session, viewers, stream); the code view and the chat panel are
// their own modules.
import { api, ApiError, enc, showError } from './api.js';
import { el, $, pathArg, userName, userLink, formatClock, formatDuration, timeAgo, toast, plural } from './dom.js';
import { initNav } from './auth.js';
import { LiveEvents } from './live.js';
import { CodeView } from './code_view.js';
import { ChatPanel } from './chat_panel.js';
import { LivePlayer } from './player.js';

const name = pathArg();
let me = null;
let channel = null;
let isOwner = false;
let codeView = null;
let timer = null;
let lastEnded = null;  // the session this page saw end (owner: link to rate)

function renderHead() {
  document.title = `${channel.title || channel.name} · Chiron`;
  $('ch-title').textContent = channel.title || channel.name;
  $('ch-owner').replaceChildren(userLink(channel.owner));
  $('ch-private').hidden = !channel.private;
  $('ch-desc').textContent = channel.description ?? '';
  $('ch-desc').hidden = !channel.description;
  $('ch-tags').replaceChildren(...(channel.tags ?? []).map((t) => el('span.tag', {}, t)));
  $('edit-channel').hidden = !isOwner;
}

function renderSession() {
  const live = Boolean(channel.live && channel.session && !channel.session.ended_at);
  const pill = $('live-pill');
  pill.className = live ? 'pill pill-live' : 'pill';
  pill.textContent = live ? 'LIVE' : 'offline';
  $('session-timer').hidden = !live;
  $('start-session').hidden = !isOwner || live;
  $('end-session').hidden = !isOwner || !live;
  const note = $('session-note');
  note.replaceChildren();
  if (live) {
    const s = channel.session;
    note.append(`Session started ${timeAgo(s.started_at)}${s.source === 'rtmp' ? ' (video)' : ''} · `,
                el('a', { href: `/s/${enc(s.id)}` }, 'session page'));
  } else if (lastEnded && isOwner) {
    note.append(`Session ended after ${formatDuration(lastEnded.duration_s ?? 0)}. `,
                el('a', { href: `/s/${enc(lastEnded.id)}`, id: 'rate-link' }, 'Rate your reviewers →'));
  } else {
    note.append(isOwner ? 'You are offline. Start a session to chat and share code live.' : 'No session running right now.');
  }
  clearInterval(timer);
  if (live) {
    const started = new Date(channel.session.started_at).getTime();
    const tick = () => { $('session-timer').textContent = formatClock((Date.now() - started) / 1000); };
    tick();
    timer = setInterval(tick, 1000);
  }
  renderPlayer();
}

let stream = null;  // the last stream state (GET …/stream, then `stream` events)
let player = null;
function renderPlayer() {
  const videoLive = stream?.state === 'live';
  const who = userName(channel.owner) || channel.name;
  if (!videoLive) {
    $('player-title').textContent = channel.live ? 'No video in this session' : 'Offline';
    const text = $('player-text');
    text.replaceChildren();
    if (isOwner) {
      text.append(channel.live ? 'This is a chat-and-code session. ' : 'You are offline. ',
                  'Start streaming in OBS and your video appears here by itself — ',
                  el('a', { href: '/settings#howto-h' }, 'OBS settings and your stream key'), '.');
    } else {
      text.append(channel.live ? 'This is a chat-and-code session: follow the files below and join the chat. ' : '',
                  `The stream starts when ${who} goes live in OBS.`);
    }
  }
  player?.update(stream);
}

// The stream state at load and after a live-events reconnect (events may have been missed).
let streamEvents = 0;  // a `stream` event newer than a GET in flight wins over its answer
async function loadStream() {
  const seen = streamEvents;
  let state = null;
  try {
    state = await api(`/channels/${enc(name)}/stream`);
  } catch (err) {
    // 404: a server without video ingest, or no state yet — either way, no video.
    if (!(err instanceof ApiError && err.status === 404)) console.warn(`stream state: ${err.message}`);
  }
  if (seen !== streamEvents) return;
  stream = state;
  renderPlayer();
}

function renderViewers(list, anonymous) {
  const users = (Array.isArray(list) ? list : []).filter((u) => u && u.name !== channel.owner?.name);
  $('reviewers').replaceChildren(...users.map((u) => el('li', { 'data-user': u.name },
    el('span.avatar', { 'aria-hidden': 'true' }, userName(u).slice(0, 1).toUpperCase()), userLink(u))));
  $('viewer-count').textContent = String(users.length);
  $('reviewers-empty').hidden = users.length > 0;
  const anon = Number(anonymous) || 0;
  $('anon-count').hidden = anon === 0;
  $('anon-count').textContent = `+ ${anon} anonymous viewer${anon === 1 ? '' : 's'}`;
}

async function loadSessions() {
  try {
    const { sessions } = await api(`/channels/${enc(name)}/sessions`);
    const past = sessions.filter((s) => s.ended_at);
    $('sessions-list').replaceChildren(...past.slice(0, 20).map((s) => el('li.list-item', { 'data-session': s.id },
      el('div.grow', {}, el('a', { href: `/s/${enc(s.id)}` }, new Date(s.started_at).toLocaleString()),
        el('span.muted', {}, ` · ${formatDuration(s.duration_s ?? 0)}`)),
      el('span.muted.small', {}, `${plural(s.participants?.length, 'reviewer')} · ${plural(s.chat_messages, 'message')} · ` +
        `${plural(s.files_touched, 'file')} · ${plural(s.comments, 'comment')} · ${plural(s.ratings, 'rating')}`),
      isOwner && (s.participants?.length ?? 0) > (s.ratings ?? 0)
        ? el('a.button.small', { href: `/s/${enc(s.id)}` }, 'Rate reviewers') : null)));
    $('sessions-empty').hidden = past.length > 0;
  } catch (err) {
    $('sessions-empty').hidden = false;
    $('sessions-empty').textContent = `Could not load sessions: ${err.message}`;
  }
}

async function sessionAction(path, button) {
  button.disabled = true;
  try {
    const s = await api(`/channels/${enc(name)}/sessions${path}`, { method: 'POST', body: {} });
    applySession(s.ended_at ? 'ended' : 'live', s);
  } catch (err) {
    toast(err.message, 'bad');
  } finally {
    button.disabled = false;
  }
}

function applySession(state, session) {
  if (state === 'live') {
    channel.live = true;
    channel.session = session;
  } else {
    channel.live = false;
    channel.session = null;
    lastEnded = session;
    loadSessions();
  }
  renderSession();
}

function onEvent(ev) {
  switch (ev.type) {
    case 'hello':
      // {live, session_id, you, viewers, anonymous}: refetch the channel if its session changed
      // while this page was away, and anything the tree may have missed.
      renderViewers(ev.viewers, ev.anonymous);
      if (Boolean(ev.live) !== Boolean(channel.live) || Number(ev.session_id || 0) !== Number(channel.session?.id || 0)) {
        api(`/channels/${enc(name)}`).then((c) => { channel = c; renderHead(); renderSession(); }, () => {});
      }
      codeView.loadTree().catch((err) => console.warn(err));
      loadStream();
      break;
    case 'file': codeView.onFile(ev); break;
    case 'comment': codeView.onComment(ev.comment); break;
    case 'comment_deleted': codeView.onCommentDeleted(ev.id); break;
    case 'session': applySession(ev.state, ev.session); break;
    case 'viewers': renderViewers(ev.viewers, ev.anonymous); break;
    case 'rating': if (isOwner) loadSessions(); break;
    case 'stream': streamEvents++; stream = ev; renderPlayer(); break;
    default: break;
  }
}

function setConn(state) {
  const c = $('live-conn');
  const map = { connecting: ['pill small pill-warn', 'connecting…'], open: ['pill small pill-ok', 'live updates'],
                reconnecting: ['pill small pill-warn', 'reconnecting…'] };
  [c.className, c.textContent] = map[state] ?? ['pill small', state];
}

async function main() {
  me = await initNav();
  if (!name) { showError($('channel-error'), new Error('No channel in the address.')); return; }
  try {
    channel = await api(`/channels/${enc(name)}`);
  } catch (err) {
    const msg = err instanceof ApiError && err.status === 404
      ? `There is no channel "${name}" — or it is private and you are not invited.` : `Could not load the channel: ${err.message}`;
    showError($('channel-error'), new Error(msg));
    document.title = 'Channel not found · Chiron';
    return;
  }
  isOwner = Boolean(me && me.user.name === channel.owner?.name);
  player = new LivePlayer({ channel: name, isOwner });
  $('channel').hidden = false;
  renderHead();
  renderSession();
  renderViewers([], 0);
  loadStream();
  $('start-session').addEventListener('click', (e) => sessionAction('', e.currentTarget));
  $('end-session').addEventListener('click', (e) => {
    if (confirm('End this session? Viewers will see you go offline.')) sessionAction('/current/end', e.currentTarget);
  });

  codeView = new CodeView({ channel: name, me, canComment: Boolean(me) });
  try {
    await codeView.loadTree();
  } catch (err) {
    toast(`Could not load the files: ${err.message}`, 'bad');
  }
  if (!codeView.openFromHash()) {
    // Open the most recently saved file: what the streamer is working on.
    const newest = [...codeView.files.values()].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)))[0];
    if (newest) codeView.open(newest.path);
  }
  new LiveEvents(name, { onEvent, onState: setConn }).start();
  new ChatPanel({
    channel: name, room: channel.chat_room, me,
    onOpenComment: (path, line) => codeView.open(path, { line }),
  }).start();
  await loadSessions();
}

// body[data-ready] tells tests (and nothing else) that the first render is complete.
main().finally(() => { document.body.dataset.ready = 'true'; });
