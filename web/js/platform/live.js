// The channel's live events (GET /api/v1/live?channel=NAME, a WebSocket of JSON messages) with
// reconnect and backoff. The server speaks, the page listens; every (re)connect starts with a
// `hello`, after which the page refetches what it may have missed.

export class LiveEvents {
  // onEvent(event) for each message; onState('connecting'|'open'|'reconnecting'|'gone').
  constructor(channel, { onEvent, onState }) {
    this.channel = channel;
    this.onEvent = onEvent;
    this.onState = onState ?? (() => {});
    this.delayMs = 500;
    this.closed = false;
    this.ws = null;
    this.timer = null;
  }

  start() {
    this.closed = false;
    this.#connect();
    return this;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }

  #connect() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    this.onState(this.ws ? 'reconnecting' : 'connecting');
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/live?channel=${encodeURIComponent(this.channel)}`);
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.delayMs = 500;
      this.onState('open');
    });
    ws.addEventListener('message', (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev && typeof ev.type === 'string') this.onEvent(ev);
    });
    ws.addEventListener('close', () => {
      if (this.closed) return;
      this.onState('reconnecting');
      // A socket that never opened was probably refused (404 private / unknown channel);
      // keep trying, but slowly.
      const wait = opened ? this.delayMs : Math.max(this.delayMs, 2000);
      this.delayMs = Math.min(this.delayMs * 2, 10000);
      this.timer = setTimeout(() => this.#connect(), wait * (0.75 + Math.random() / 2));
    });
  }
}
