// The channel's chat panel: Socket.IO v4 (global `io` from /vendor/socket.io/) over WebSocket,
// protocol in docs/protocols.md. Logged-in users get a chat token from
// GET /api/v1/chat/token?channel=NAME; anonymous viewers join read-only. New line comments arrive
// as system messages. All user text through textContent.
import { api, enc } from './api.js';
import { el, $, formatTime, formatDateTime } from './dom.js';
import { loginHref } from './auth.js';

const ACK_TIMEOUT_MS = 8000;
const MAX_MESSAGES = 500;

export class ChatPanel {
  // onOpenComment(path, line, version) jumps the code view to a comment.
  constructor({ channel, room, me, onOpenComment }) {
    this.channel = channel;
    this.room = room;
    this.me = me;
    this.onOpenComment = onOpenComment;
    this.joined = false;
    this.canPost = false;
    this.you = null;
    this.epoch = null;
    this.lastSeq = 0;
    this.seen = new Set();
    this.tokenRetried = false;
  }

  async start() {
    if (typeof io === 'undefined') { this.setStatus('bad', 'unavailable'); this.notice('The chat library did not load.', 'bad'); return; }
    let token = null;
    if (this.me) {
      try {
        const t = await api(`/chat/token?channel=${enc(this.channel)}`);
        token = t.token;
        if (t.room) this.room = t.room;
      } catch (err) {
        this.notice(`Chat sign-in failed (${err.message}); reading only.`, 'warn');
      }
    }
    if (!this.room) { this.setStatus('bad', 'no room'); return; }
    if (!this.me) {
      $('chat-hint').hidden = false;
      $('chat-login').href = loginHref();
    } else {
      $('chat-composer').hidden = false;
    }
    // eslint-disable-next-line no-undef
    this.socket = io(location.origin, { transports: ['websocket'], auth: token ? { token } : undefined });
    this.socket.on('connect', () => { this.setStatus('ok', 'connected'); this.join(); });
    this.socket.on('disconnect', (reason) => {
      this.joined = false;
      this.renderComposer();
      if (reason !== 'io client disconnect') this.setStatus('warn', 'reconnecting…');
    });
    this.socket.on('connect_error', (err) => this.onConnectError(err));
    this.socket.on('new message', (m) => this.onMessage(m));
    this.socket.on('message deleted', (d) => {
      if (!d || d.room !== this.room) return;
      const li = $('chat-messages').querySelector(`li[data-seq="${Number(d.target)}"]`);
      if (!li) return;
      li.classList.add('deleted');
      li.querySelector('.msg-text').textContent = 'message deleted';
    });
    this.socket.on('presence', (p) => {
      if (p?.room === this.room && Number.isInteger(p.count)) $('chat-status').title = `${p.count} in chat`;
    });
    this.socket.on('moderation', (m) => {
      if (m?.room !== this.room) return;
      if (m.action === 'slow') this.notice(m.seconds ? `Slow mode: one message every ${m.seconds} s.` : 'Slow mode is off.');
      else if (m.user) this.notice(`${m.user} was ${m.action === 'ban' ? 'banned' : 'muted'}${m.until ? ` until ${formatDateTime(m.until)}` : ''}.`, 'warn');
    });
    this.socket.on('banned', (b) => {
      if (b?.room !== this.room) return;
      this.joined = false;
      this.notice(`You were banned from this chat${b.until ? ` until ${formatDateTime(b.until)}` : ''}.`, 'bad');
      this.renderComposer();
    });
    $('chat-composer').addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    $('chat-text').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(); }
    });
  }

  // A refused token (expired after a long visit) is replaced once with a fresh one.
  async onConnectError(err) {
    if (this.socket.active) { this.setStatus('bad', 'offline'); return; }
    if (this.me && !this.tokenRetried) {
      this.tokenRetried = true;
      try {
        const t = await api(`/chat/token?channel=${enc(this.channel)}`);
        this.socket.auth = { token: t.token };
        this.socket.connect();
        return;
      } catch { /* fall through */ }
    }
    this.setStatus('bad', 'refused');
    this.notice(`The chat refused the connection: ${err.message}`, 'bad');
  }

  async request(event, ...args) {
    try {
      const res = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, ...args);
      return res && typeof res === 'object' ? res : { ok: false, error: 'bad reply' };
    } catch {
      return { ok: false, error: 'no reply from the server' };
    }
  }

  async join() {
    const res = this.epoch !== null ? await this.request('new user', this.room, { epoch: this.epoch, seq: this.lastSeq })
                                    : await this.request('new user', this.room);
    if (!res.ok) {
      this.notice(`Could not join the chat: ${res.error ?? 'refused'}`, 'bad');
      return;
    }
    this.tokenRetried = false;
    this.joined = true;
    this.epoch = res.epoch ?? null;
    if (Number.isInteger(res.seq) && res.seq > this.lastSeq) this.lastSeq = res.seq;
    this.you = res.you ?? null;
    this.canPost = Boolean(this.me) && res.you?.can_post !== false;
    if (res.recovered === false) this.notice('Some messages from while you were away could not be recovered.', 'warn');
    if (Number.isInteger(res.members)) $('chat-status').title = `${res.members} in chat`;
    this.renderComposer();
  }

  setStatus(kind, text) {
    const s = $('chat-status');
    s.className = `pill small pill-${kind}`;
    s.textContent = text;
  }

  renderComposer() {
    const ready = this.joined && this.canPost;
    $('chat-text').disabled = !ready;
    $('chat-send').disabled = !ready;
    $('chat-text').placeholder = !this.joined ? 'Not connected' : ready ? 'Say something…' : 'Read-only';
  }

  async send() {
    const box = $('chat-text');
    const text = box.value.trim();
    if (!text || !this.joined) return;
    $('chat-send').disabled = true;
    const res = await this.request('new message', { room: this.room, text });
    $('chat-send').disabled = !this.joined;
    const err = $('chat-error');
    if (res.ok) {
      box.value = '';
      err.hidden = true;
    } else {
      err.textContent = res.error ?? 'not sent';
      err.hidden = false;
    }
    box.focus();
  }

  append(li) {
    const list = $('chat-messages');
    const near = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(li);
    while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove();
    if (near) list.scrollTop = list.scrollHeight;
  }

  notice(text, kind = '') {
    this.append(el(`li.notice${kind ? `.${kind}` : ''}`, {}, text));
  }

  onMessage(m) {
    if (!m || m.room !== this.room || !Number.isInteger(m.seq) || this.seen.has(m.seq)) return;
    this.seen.add(m.seq);
    if (m.seq > this.lastSeq) this.lastSeq = m.seq;
    this.append(m.system ? this.systemItem(m) : this.messageItem(m));
  }

  messageItem(m) {
    const name = m.name || m.user;
    const li = el('li.msg', { 'data-seq': m.seq, 'data-user': m.user });
    if (this.you && m.user === this.you.user) li.classList.add('mine');
    const time = typeof m.ts === 'number' ? el('time.msg-time', { datetime: new Date(m.ts).toISOString() }, formatTime(m.ts)) : null;
    const who = /^anon-/.test(m.user ?? '') ? el('span.msg-name', {}, name)
      : el('a.msg-name', { href: `/u/${encodeURIComponent(m.user)}`, title: `@${m.user}` }, name);
    li.append(el('div.msg-head', {}, who, time), el('p.msg-text', {}, typeof m.text === 'string' ? m.text : ''));
    return li;
  }

  // A line comment posted as a system message: {"type":"comment", system:true, comment|fields}.
  systemItem(m) {
    const c = m.comment && typeof m.comment === 'object' ? m.comment : m;
    const li = el('li.msg.system', { 'data-seq': m.seq });
    if (m.type === 'comment' && typeof c.path === 'string') {
      const author = c.author?.display_name || c.author?.name || m.author_name || m.name || 'someone';
      const where = el('a.where', {
        href: `#file=${encodeURIComponent(c.path)}&line=${Number(c.line) || 1}`,
        onclick: (e) => { e.preventDefault(); this.onOpenComment?.(c.path, Number(c.line) || 1, c.version); },
      }, `${c.path}:${c.line}`);
      li.append(el('p.sys-line', {}, el('span.sys-badge', {}, 'comment'), ' ', el('strong', {}, author), ' on ', where),
                el('p.msg-text', {}, typeof c.body === 'string' ? c.body : (m.text ?? '')));
    } else {
      li.append(el('p.msg-text', {}, typeof m.text === 'string' ? m.text : JSON.stringify(m.type ?? 'event')));
    }
    return li;
  }
}
