// Polls the node once a second. A failed round (no answer, or an error status) switches to
// "disconnected" and retries with exponential backoff (1 s, 2 s, 4 s … 15 s) until the node
// answers again; retryNow() (the status pill, the browser coming back online) skips the wait.
// Rounds never overlap: the next one is scheduled when the previous one has settled.

export const POLL_MS = 1000;
const MAX_BACKOFF_MS = 15000;

export class Poller {
  // round(): async, throws on failure. onStatus(state, detail): state is 'connecting', 'live'
  // or 'offline'; detail {error, retryAt (ms since epoch), failures}.
  constructor({ round, onStatus, now = () => Date.now() }) {
    this.round = round; this.onStatus = onStatus; this.now = now;
    this.failures = 0;
    this.timer = null;
    this.running = false;
    this.stopped = true;
    this.state = 'connecting';
  }

  start() {
    this.stopped = false;
    this.onStatus('connecting', {});
    this.#run();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  retryNow() {
    if (this.stopped || this.running) return;
    clearTimeout(this.timer);
    this.#run();
  }

  backoffMs() { return Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** Math.max(0, this.failures - 1)); }

  async #run() {
    this.running = true;
    let error = null;
    try {
      await this.round();
    } catch (err) {
      error = err;
    }
    this.running = false;
    if (this.stopped) return;
    let delay = POLL_MS;
    if (error) {
      this.failures++;
      delay = this.backoffMs();
      this.state = 'offline';
      this.onStatus('offline', { error, failures: this.failures, retryAt: this.now() + delay });
    } else {
      this.failures = 0;
      this.state = 'live';
      this.onStatus('live', {});
    }
    this.timer = setTimeout(() => this.#run(), delay);
  }
}
