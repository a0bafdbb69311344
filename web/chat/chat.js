// Chat page: one room over Socket.IO v4 (the global `io` from /vendor/socket.io/), WebSocket only.
// Contract: docs/protocols.md (events, acks) and src/chat/token.h (the JWT in the CONNECT auth).
// The server is the authority on identity and rights; the token's claims are decoded here only to
// show who you are and which controls to offer. All user text goes through textContent.
// Plain ES module, no bundler.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'chiron.chat.token';
const ACK_TIMEOUT_MS = 8000;
const MAX_MESSAGES = 500;

const room = (new URLSearchParams(location.search).get('room') ?? '').trim() || 'lobby';

// ---- identity ---------------------------------------------------------------------------------

// A token in the URL fragment (#token=...) moves to sessionStorage and out of the address bar.
function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

// The claims of a JWT, unverified (display only), or null.
function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims.sub === 'string' ? claims : null;
  } catch {
    return null;
  }
}

const token = takeToken();
const claims = token ? decodeClaims(token) : null;
const me = {
  user: claims?.sub ?? null,            // confirmed by the join ack's `you`
  name: claims?.name || claims?.sub || null,
  signedIn: Boolean(claims),
  canPost: claims ? claims.post !== false : true,  // until the join ack's `you` says
  moderator: Array.isArray(claims?.mod) && claims.mod.some((r) => r === '*' || r === room),
  postError: '',                         // the last refusal, shown under the composer
};

// ---- state ------------------------------------------------------------------------------------

const members = new Map();  // user → name
let memberCount = 0;
let joined = false;
let epoch = null;
let lastSeq = 0;
const mySeqs = new Set();   // seqs of messages this page posted (author delete, "mine" styling)

// ---- rendering --------------------------------------------------------------------------------

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
// Server times are unix ms; tolerate seconds.
const toDate = (t) => new Date(t < 1e12 ? t * 1000 : t);
const formatUntil = (t) => dateTimeFormat.format(toDate(t));

function formatSeconds(s) {
  if (s % 86400 === 0) return `${s / 86400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

function setConn(state, text) {
  const pill = $('conn-status');
  pill.dataset.state = state;
  pill.textContent = text;
}

function renderIdentity() {
  const box = $('identity');
  box.replaceChildren();
  if (me.signedIn) {
    box.append('Signed in as ', el('strong', '', me.name));
    if (me.name !== me.user) box.append(` (@${me.user})`);
    if (me.moderator) box.append(' · moderator');
    if (!me.canPost) box.append(' · read-only');
  } else {
    box.append(el('strong', '', 'Anonymous'));
    if (me.user) box.append(` (@${me.user})`);
    box.append(me.canPost ? ' · paste a token to sign in' : ' · read-only viewer');
  }
  $('mod-card').hidden = !me.moderator;
  renderComposer();
}

function renderComposer() {
  const ready = joined && me.canPost;
  $('composer-text').disabled = !ready;
  $('composer-send').disabled = !ready;
  $('composer-text').placeholder = !joined ? 'Not connected' : me.canPost ? `Message #${room}` : 'Read-only: you cannot post here';
  const err = $('composer-error');
  err.textContent = me.postError;
  err.hidden = !me.postError;
}

function scrollToEndIfNear(list, wasNear) {
  if (wasNear) list.scrollTop = list.scrollHeight;
}

function isNearEnd(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function appendItem(li) {
  const list = $('messages');
  const near = isNearEnd(list);
  list.append(li);
  while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove();
  scrollToEndIfNear(list, near);
}

function notice(text, kind = '') {
  appendItem(el('li', `notice ${kind}`.trim(), text));
}

// A per-user moderation menu (mute/ban); only built for moderators.
function userMenu(user, name) {
  const menu = el('details', 'user-menu');
  const summary = el('summary', '', '⋯');
  summary.setAttribute('aria-label', `Moderate ${name}`);
  summary.title = `Moderate ${name}`;
  const box = el('div', 'menu');
  const actions = [
    ['Mute 5 min', 'mute', 300], ['Mute 1 h', 'mute', 3600], ['Unmute', 'mute', 0],
    ['Ban 1 h', 'ban', 3600], ['Ban 1 day', 'ban', 86400], ['Unban', 'ban', 0],
  ];
  for (const [label, action, seconds] of actions) {
    const b = el('button', action === 'ban' && seconds ? 'danger small' : 'secondary small', label);
    b.type = 'button';
    b.addEventListener('click', () => {
      menu.open = false;
      moderate(action, { room, user, seconds });
    });
    box.append(b);
  }
  menu.append(summary, box);
  return menu;
}

function renderMessage(m) {
  const li = el('li', 'msg');
  li.dataset.seq = String(m.seq);
  li.dataset.user = m.user;
  if (mySeqs.has(m.seq) || (me.user && m.user === me.user)) li.classList.add('mine');
  const head = el('div', 'msg-head');
  const name = m.name || m.user;
  head.append(el('span', 'msg-name', name));
  if (name !== m.user) head.append(el('span', 'msg-user', `@${m.user}`));
  const time = el('time', 'msg-time', typeof m.ts === 'number' ? timeFormat.format(toDate(m.ts)) : '');
  if (typeof m.ts === 'number') {
    time.dateTime = toDate(m.ts).toISOString();
    time.title = dateTimeFormat.format(toDate(m.ts));
  }
  head.append(time);
  const actions = el('span', 'msg-actions');
  if (me.moderator || mySeqs.has(m.seq)) {
    const del = el('button', 'msg-delete', '×');
    del.type = 'button';
    del.title = 'Delete message';
    del.setAttribute('aria-label', `Delete message from ${name}`);
    del.addEventListener('click', () => moderate('delete message', { room, seq: m.seq }));
    actions.append(del);
  }
  if (me.moderator && m.user !== me.user) actions.append(userMenu(m.user, name));
  if (actions.childElementCount) head.append(actions);
  li.append(head, el('p', 'msg-text', typeof m.text === 'string' ? m.text : ''));
  return li;
}

function messageItem(seq) {
  return $('messages').querySelector(`li.msg[data-seq="${Number(seq)}"]`);
}

function renderMembers() {
  $('member-count').textContent = String(memberCount);
  const list = $('member-list');
  const sorted = [...members].sort((a, b) => a[1].localeCompare(b[1]));
  list.replaceChildren(...sorted.map(([user, name]) => {
    const li = el('li');
    li.dataset.user = user;
    li.append(el('span', 'dot'), el('span', 'who', name));
    li.lastChild.title = `@${user}`;
    if (user === me.user) li.append(el('span', 'me', 'you'));
    else if (me.moderator) li.append(userMenu(user, name));
    return li;
  }));
  const hidden = memberCount - members.size;
  $('member-more').hidden = hidden <= 0;
  $('member-more').textContent = hidden > 0 ? `and ${hidden} more` : '';
}

// ---- socket -----------------------------------------------------------------------------------

// eslint-disable-next-line no-undef
const socket = io({ transports: ['websocket'], auth: token ? { token } : undefined });

async function request(event, ...args) {
  try {
    const res = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, ...args);
    return res && typeof res === 'object' ? res : { ok: false, error: 'bad reply' };
  } catch {
    return { ok: false, error: 'no reply from the server' };
  }
}

function noteSeq(seq) {
  if (Number.isInteger(seq) && seq > lastSeq) lastSeq = seq;
}

async function join() {
  const recovering = epoch !== null;
  const res = await (recovering ? request('new user', room, { epoch, seq: lastSeq }) : request('new user', room));
  if (!res.ok) {
    joined = false;
    notice(`Could not join #${room}: ${res.error ?? 'refused'}`, 'bad');
    me.postError = res.error ?? '';
    renderComposer();
    return;
  }
  joined = true;
  if (epoch !== null && res.epoch !== epoch) lastSeq = 0;
  epoch = res.epoch ?? null;
  noteSeq(res.seq);
  if (res.you && typeof res.you.user === 'string') {
    // The server's word on who we are and what we may do here.
    me.user = res.you.user;
    me.name = res.you.name || res.you.user;
    me.canPost = res.you.can_post === true;
    me.moderator = res.you.moderator === true;
    renderIdentity();
  }
  if (recovering && res.recovered === false) notice('Some messages from while you were away could not be recovered.', 'warn');
  members.clear();
  for (const u of res.users ?? []) if (u && typeof u.user === 'string') members.set(u.user, u.name || u.user);
  memberCount = Number.isInteger(res.members) ? res.members : members.size;
  renderMembers();
  renderComposer();
}

socket.on('connect', () => {
  setConn('connected', 'connected');
  join();
});

socket.on('disconnect', (reason) => {
  joined = false;
  renderComposer();
  if (reason === 'io client disconnect') return;
  setConn('reconnecting', 'reconnecting…');
  notice('Disconnected — reconnecting…', 'warn');
});

socket.on('connect_error', (err) => {
  // A refusal from the server (bad or expired token) is final: socket.active is false.
  if (!socket.active) {
    setConn('refused', 'refused');
    notice(`The server refused your token: ${err.message}. Sign out to continue anonymously.`, 'bad');
  } else {
    setConn('offline', 'offline');
  }
});

socket.on('new message', (m) => {
  if (!m || m.room !== room || !Number.isInteger(m.seq) || messageItem(m.seq)) return;
  noteSeq(m.seq);
  appendItem(renderMessage(m));
});

socket.on('message deleted', (d) => {
  if (!d || d.room !== room) return;
  noteSeq(d.seq);
  const li = messageItem(d.target);
  if (!li || li.classList.contains('deleted')) return;
  li.classList.add('deleted');
  li.querySelector('.msg-text').textContent = 'message deleted';
  li.querySelector('.msg-actions')?.remove();
});

socket.on('presence', (p) => {
  if (!p || p.room !== room) return;
  for (const u of p.left ?? []) if (u && u.user !== undefined) members.delete(u.user);
  for (const u of p.joined ?? []) if (u && typeof u.user === 'string') members.set(u.user, u.name || u.user);
  if (Number.isInteger(p.count)) memberCount = p.count;
  renderMembers();
});

function moderationText(m) {
  const who = m.user ?? 'someone';
  const by = m.by ? ` by ${m.by}` : '';
  if (m.action === 'slow') return m.seconds ? `Slow mode on: one message every ${formatSeconds(m.seconds)}${by}.` : `Slow mode off${by}.`;
  const verb = m.action === 'ban' ? 'banned' : m.action === 'mute' ? 'muted' : m.action;
  if (!m.until) return `${who} was un${verb}${by}.`;
  return `${who} was ${verb} until ${formatUntil(m.until)}${by}.`;
}

socket.on('moderation', (m) => {
  if (!m || m.room !== room) return;
  notice(moderationText(m), 'warn');
  if (m.action === 'mute' && m.user && m.user === me.user) {
    me.postError = m.until ? `You are muted until ${formatUntil(m.until)}.` : '';
    renderComposer();
  }
});

socket.on('banned', (b) => {
  if (!b || b.room !== room) return;
  joined = false;
  me.postError = `You are banned from #${room}${b.until ? ` until ${formatUntil(b.until)}` : ''}${b.reason ? `: ${b.reason}` : '.'}`;
  notice(me.postError, 'bad');
  members.clear();
  memberCount = 0;
  renderMembers();
  renderComposer();
});

socket.on('gap', (g) => {
  if (!g || g.room !== room) return;
  notice(`Connection hiccup${g.reason ? ` (${g.reason})` : ''}: some messages may be missing — rejoining…`, 'warn');
  join();
});

// ---- actions ----------------------------------------------------------------------------------

async function send(text) {
  const res = await request('new message', { room, text });
  if (!res.ok) {
    me.postError = res.error ?? 'not sent';
    renderIdentity();
    return false;
  }
  me.postError = '';
  mySeqs.add(res.seq);
  const li = messageItem(res.seq);
  if (li) {
    li.classList.add('mine');
    if (!li.querySelector('.msg-delete')) li.replaceWith(renderMessage({ ...readBack(li), seq: res.seq }));
  }
  renderComposer();
  return true;
}

// Rebuilds a message's fields from its list item (to re-render it with the author's controls).
function readBack(li) {
  const name = li.querySelector('.msg-name').textContent;
  const time = li.querySelector('time');
  return { user: li.dataset.user, name, text: li.querySelector('.msg-text').textContent,
           ts: time?.dateTime ? Date.parse(time.dateTime) : undefined };
}

async function moderate(event, payload) {
  const res = await request(event, payload);
  if (!res.ok) notice(`${event} failed: ${res.error ?? 'refused'}`, 'bad');
}

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const box = $('composer-text');
  const text = box.value.trim();
  if (!text || box.disabled) return;
  $('composer-send').disabled = true;
  if (await send(text)) box.value = '';
  renderComposer();
  box.focus();
});

$('composer-text').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});

$('slow-apply').addEventListener('click', () => {
  moderate('slow mode', { room, seconds: Number($('slow-mode').value) });
});

$('room-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const next = $('room-input').value.trim();
  if (next) location.search = `?room=${encodeURIComponent(next)}`;
});

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('token-input').value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  location.reload();
});

$('token-clear').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});

// ---- start ------------------------------------------------------------------------------------

$('room-name').textContent = room;
$('room-input').value = room;
document.title = `#${room} · Chiron chat`;
if (token && !claims) notice('The saved token is not a JWT; the server will refuse it.', 'bad');
renderIdentity();
renderMembers();
