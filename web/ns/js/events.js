// Client of the events WebSocket (docs/protocols.md "Events"). Connects, hands frames to the
// callbacks, reconnects with capped exponential backoff and jitter, and forces a reconnect (which
// yields a fresh snapshot) when the state reports a version gap or the stream goes silent.

const SILENCE_MS = 8000;       // stats arrive every second; this much quiet means a dead link
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;

export class EventStream {
  // url(): the ws:// URL to use (re-read per attempt so a new token applies);
  // onFrame(obj) returns 'gap' to request a resync; onStatus(kind, text) drives the indicator.
  constructor({ url, onFrame, onStatus }) {
    this.url = url; this.onFrame = onFrame; this.onStatus = onStatus;
    this.ws = null; this.failures = 0; this.retryTimer = null; this.watchdog = null; this.stopped = true;
    this.lastFrameAt = 0; this.gapStreak = 0; this.lastGapAt = -Infinity;
  }

  start() {
    this.stopped = false;
    this.#connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
  }

  // Drop the connection and connect again at once (new token, or a version gap).
  restart(reason = '') {
    this.stop();
    this.onStatus('connecting', reason ? `resyncing (${reason})…` : 'connecting…');
    this.stopped = false;
    this.#connect();
  }

  get live() { return this.ws?.readyState === WebSocket.OPEN; }

  #connect() {
    clearTimeout(this.retryTimer);
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.onStatus('offline', `bad events URL: ${err.message}`);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => { opened = true; this.lastFrameAt = performance.now(); };
    ws.onmessage = (ev) => {
      this.lastFrameAt = performance.now();
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.type === 'snapshot') { this.failures = 0; this.onStatus('live', 'live'); }
      if (this.onFrame(msg) === 'gap') this.#resync('missed events');
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.watchdog);
      if (this.stopped) return;
      this.failures++;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.failures - 1)) * (0.8 + Math.random() * 0.4);
      // RFC 6455 §7.4.1: 1008 is a policy violation, which the server uses for a refused token.
      const why = ev.code === 1008 ? 'refused: the admin token is missing or wrong'
        : opened ? `connection lost${ev.code && ev.code !== 1006 ? ` (${ev.code})` : ''}`
        : 'cannot connect (server down, or the admin token is wrong)';
      this.#countdown(why, performance.now() + delay);
      this.retryTimer = setTimeout(() => this.#connect(), delay);
    };
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN && performance.now() - this.lastFrameAt > SILENCE_MS) {
        ws.close();  // onclose schedules the reconnect
      }
    }, 1000);
  }

  #resync(reason) {
    // A gap costs a snapshot; gaps in quick succession back off so a broken server is not hammered.
    const now = performance.now();
    this.gapStreak = now - this.lastGapAt < 5000 ? this.gapStreak + 1 : 0;
    this.lastGapAt = now;
    const delay = this.gapStreak ? Math.min(BACKOFF_MAX_MS, 250 * 2 ** this.gapStreak) : 0;
    this.stop();
    this.stopped = false;
    this.onStatus('connecting', `resyncing (${reason})…`);
    this.retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #countdown(why, at) {
    const tick = () => {
      if (this.ws || this.stopped) return;
      const s = Math.max(0, Math.ceil((at - performance.now()) / 1000));
      this.onStatus('offline', `offline — ${why}; retry in ${s} s`);
      if (s > 0) setTimeout(tick, 500);
    };
    tick();
  }
}

export function eventsUrl(token) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${proto}//${location.host}/api/v1/events${q}`;
}
