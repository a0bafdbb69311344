// The channel page's live video (#player): plays the channel's stream while its state says live
// and shows the offline poster otherwise, switching by itself as `stream` states arrive
// (GET /api/v1/channels/<name>/stream at load, then the live events).
//
// Engines, first that works: HTTP-FLV through mpegts.js (MSE, ~1–3 s latency), the HLS playlist
// through hls.js (MSE, ~6–10 s), native HLS (Safari). Playback errors, a closed stream and a stall
// tear the engine down and retry with backoff for as long as the state says live; an offline state
// destroys it. Autoplay starts muted (browsers refuse sound without a click); the unmute button
// turns the sound on. Stream health hints are shown to the channel's owner only.
import { el, $ } from './dom.js';
import { loadMpegts, loadHls, mseSupports, nativeHls, forcedEngine } from './media_libs.js';

const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
const STALL_MS = 10000;      // live and not paused, yet the picture has not moved: reconnect
const HEALTHY_MS = 10000;    // this long playing resets the backoff
const ENGINE_NAMES = { flv: 'HTTP-FLV', hls: 'HLS', native: 'HLS (native)' };

// 2500 → "2.5 Mb/s", 640 → "640 kb/s" (the stream state's bitrate is in kbit/s).
export function formatKbps(kbps) {
  const v = Number(kbps) || 0;
  return v >= 1000 ? `${(v / 1000).toFixed(1)} Mb/s` : `${Math.round(v)} kb/s`;
}

export class LivePlayer {
  // channel: the channel name; isOwner: show the health hints.
  constructor({ channel, isOwner }) {
    this.channel = channel;
    this.isOwner = isOwner;
    this.root = $('player');
    this.video = $('player-video');
    this.stream = null;
    this.engine = null;      // {kind, destroy()} while one is attached
    this.active = false;     // live: an engine is running, starting or due to retry
    this.gen = 0;            // bumped on every teardown; stale async starts and events see a new value
    this.retries = 0;
    this.retryTimer = null;
    this.lastTime = 0;
    this.lastProgressAt = 0;
    this.playingSince = 0;
    this.muted = true;

    $('unmute').addEventListener('click', () => this.#setMuted(!this.video.muted));
    $('fullscreen').addEventListener('click', () => {
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else this.root.requestFullscreen?.().catch(() => {});
    });
    this.video.addEventListener('playing', () => this.#status(null));
    this.video.addEventListener('error', () => {
      // mpegts.js and hls.js report their own errors; for native HLS this is the only signal.
      if (this.engine?.kind === 'native') this.#fail(this.gen, `media error ${this.video.error?.code ?? ''}`);
    });
    this.watchdog = setInterval(() => this.#watch(), 1000);
  }

  // The channel's current stream state ({state:"live"|"offline", …} or null for offline).
  update(stream) {
    const prev = this.stream;
    this.stream = stream;
    const live = stream?.state === 'live';
    this.root.dataset.state = live ? 'live' : 'offline';
    this.root.querySelector('.player-offline').hidden = live;
    this.video.hidden = !live;
    this.root.querySelector('.player-top').hidden = !live;
    this.root.querySelector('.player-bottom').hidden = !live;
    this.#renderFacts();
    this.#renderHealth();
    if (!live) {
      this.#teardown();
      this.active = false;
      this.retries = 0;
      this.#status(null);
      return;
    }
    if (!this.active) {
      this.active = true;
      this.#start();
    } else if (prev && (prev.flv !== stream.flv || prev.hls !== stream.hls || prev.since !== stream.since)) {
      // A new publish (or new URLs): the old connection belongs to the stream that ended.
      this.#teardown();
      this.#start();
    }
  }

  destroy() {
    clearInterval(this.watchdog);
    this.#teardown();
    this.active = false;
  }

  #urls() {
    const s = this.stream ?? {};
    const enc = encodeURIComponent(this.channel);
    return {
      flv: new URL(s.flv || `/live/${enc}.flv`, location.href).href,
      hls: new URL(s.hls || `/live/${enc}/index.m3u8`, location.href).href,
    };
  }

  async #pickEngine() {
    const forced = forcedEngine();
    if (forced) return forced;
    const s = this.stream ?? {};
    if (mseSupports(s.video_codec, s.audio_codec)) {
      try {
        const mpegts = await loadMpegts();
        if (mpegts.getFeatureList().mseLivePlayback) return 'flv';
      } catch (err) {
        console.warn(err.message);
      }
      try {
        const Hls = await loadHls();
        if (Hls.isSupported()) return 'hls';
      } catch (err) {
        console.warn(err.message);
      }
    }
    return nativeHls(this.video) ? 'native' : null;
  }

  async #start() {
    const gen = this.gen;
    this.#status(this.retries ? 'Reconnecting to the stream…' : 'Connecting to the stream…');
    let kind = null;
    try {
      kind = await this.#pickEngine();
      if (gen !== this.gen) return;
      if (!kind) {
        this.#status('This browser cannot play the stream (no Media Source Extensions and no HLS). The code and the chat still work.');
        return;
      }
      this.root.dataset.engine = kind;
      this.engine = kind === 'flv' ? await this.#startFlv(gen)
                  : kind === 'hls' ? await this.#startHls(gen)
                                   : this.#startNative();
      if (gen !== this.gen) { this.engine?.destroy(); this.engine = null; return; }
      this.lastTime = this.video.currentTime;
      this.lastProgressAt = performance.now();
      this.playingSince = 0;
      this.#renderFacts();
      this.#play();
    } catch (err) {
      this.#fail(gen, err.message);
    }
  }

  async #startFlv(gen) {
    const mpegts = await loadMpegts();
    const player = mpegts.createPlayer({ type: 'flv', isLive: true, url: this.#urls().flv }, {
      enableStashBuffer: false,
      liveBufferLatencyChasing: true,
      liveBufferLatencyMaxLatency: 1.5,
      liveBufferLatencyMinRemain: 0.3,
      autoCleanupSourceBuffer: true,   // a stream runs for hours; keep the SourceBuffer small
    });
    player.on(mpegts.Events.ERROR, (type, detail) => this.#fail(gen, `${type}: ${detail}`));
    // The server closes the response when the publisher stops; the state event follows.
    player.on(mpegts.Events.LOADING_COMPLETE, () => this.#fail(gen, 'the stream ended'));
    player.attachMediaElement(this.video);
    player.load();
    return {
      kind: 'flv',
      destroy: () => {
        try { player.pause(); } catch { /* not started */ }
        try { player.unload(); player.detachMediaElement(); } catch { /* already detached */ }
        player.destroy();
      },
    };
  }

  async #startHls(gen) {
    const Hls = await loadHls();
    const hls = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6,
                          backBufferLength: 30 });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) this.#fail(gen, `hls ${data.type}: ${data.details}`);
    });
    hls.loadSource(this.#urls().hls);
    hls.attachMedia(this.video);
    return { kind: 'hls', destroy: () => hls.destroy() };
  }

  #startNative() {
    this.video.src = this.#urls().hls;
    return {
      kind: 'native',
      destroy: () => { this.video.removeAttribute('src'); this.video.load(); },
    };
  }

  #play() {
    this.video.muted = this.muted;
    const p = this.video.play();
    p?.catch((err) => {
      if (err?.name !== 'NotAllowedError') return;  // AbortError: a teardown interrupted it
      // Autoplay refused even muted (a browser setting): one click starts it.
      const b = el('button.player-btn', { type: 'button', onclick: () => { this.#status(null); this.video.play().catch(() => {}); } },
                   '▶ Play the stream');
      this.#status(b);
    });
    this.#renderMute();
  }

  #setMuted(muted) {
    this.muted = muted;
    this.video.muted = muted;
    if (!muted && this.video.paused && this.engine) this.video.play().catch(() => {});
    this.#renderMute();
  }

  #renderMute() {
    $('unmute-label').textContent = this.video.muted ? 'Unmute' : 'Mute';
    $('unmute').setAttribute('aria-pressed', String(!this.video.muted));
  }

  // A failed, ended or stalled engine: tear it down and, while live, try again after a backoff.
  #fail(gen, reason) {
    if (gen !== this.gen || !this.active) return;
    console.warn(`video (${this.engine?.kind ?? 'starting'}): ${reason}`);
    this.#teardown();
    const delay = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)];
    this.retries++;
    this.#status(`Reconnecting to the stream in ${Math.round(delay / 1000)} s…`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.active) this.#start();
    }, delay);
  }

  #teardown() {
    this.gen++;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const engine = this.engine;
    this.engine = null;
    delete this.root.dataset.engine;
    if (engine) {
      try { engine.destroy(); } catch (err) { console.warn(`video teardown: ${err.message}`); }
    }
  }

  // Once a second: progress resets the stall clock, long progress resets the backoff, and a
  // picture that has not moved for STALL_MS while playing means a dead connection.
  #watch() {
    if (!this.engine || !this.active) return;
    const now = performance.now();
    const t = this.video.currentTime;
    if (t > this.lastTime + 0.05 || t < this.lastTime - 1) {
      this.lastTime = t;
      this.lastProgressAt = now;
      this.playingSince ||= now;
      if (now - this.playingSince > HEALTHY_MS) this.retries = 0;
      return;
    }
    if (!this.video.paused && now - this.lastProgressAt > STALL_MS) {
      this.playingSince = 0;
      this.#fail(this.gen, 'no picture for 10 s');
    }
  }

  #status(content) {
    const s = $('player-status');
    s.hidden = content === null;
    s.replaceChildren(content ?? '');
  }

  #renderFacts() {
    const s = this.stream;
    if (s?.state !== 'live') return;
    const bits = [];
    if (s.width && s.height) bits.push(`${s.width}×${s.height}`);
    if (s.fps) bits.push(`${Math.round(s.fps)} fps`);
    if (s.bitrate) bits.push(formatKbps(s.bitrate));
    const kind = this.engine?.kind ?? this.root.dataset.engine;
    if (kind) bits.push(ENGINE_NAMES[kind]);
    $('stream-facts').textContent = bits.join(' · ');
    const viewers = $('stream-viewers');
    viewers.hidden = !Number.isInteger(s.viewers);
    viewers.textContent = `${s.viewers} watching`;
    viewers.title = 'People watching the video now';
  }

  #renderHealth() {
    const box = $('stream-health');
    const s = this.stream;
    if (!this.isOwner || s?.state !== 'live') { box.hidden = true; return; }
    const problems = (Array.isArray(s.health) ? s.health : []).filter((h) => h && h.level !== 'ok');
    const items = problems.length
      ? problems.map((h) => el(`li.health-${h.level === 'warn' ? 'warn' : 'info'}`, { 'data-code': h.code },
          el('strong', {}, h.level === 'warn' ? '⚠ ' : 'ℹ '), h.message || h.code))
      : [el('li.health-ok', {}, '✓ Your stream looks healthy.')];
    if (s.keyframe_interval) items.push(el('li.muted.small', {}, `Keyframe every ${Number(s.keyframe_interval).toFixed(1)} s`));
    $('health-list').replaceChildren(...items);
    box.hidden = false;
  }
}
