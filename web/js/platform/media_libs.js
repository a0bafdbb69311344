// The browser video libraries (npm mpegts.js and hls.js, served under /vendor/), loaded only when
// a page has video to play, and the feature checks that pick between them.
//
// mpegts.js plays FLV over HTTP through Media Source Extensions (about 1–3 s behind the streamer);
// hls.js plays the HLS playlist through MSE where mpegts.js cannot; Safari without MSE plays HLS
// natively. Debian's Chromium supports H.264 in MSE, so it takes the FLV path.

let mpegtsPromise = null;
let hlsPromise = null;

// mpegts.js ships only a UMD build: a classic script that sets window.mpegts.
export function loadMpegts() {
  mpegtsPromise ??= new Promise((resolve, reject) => {
    if (window.mpegts) { resolve(window.mpegts); return; }
    const s = document.createElement('script');
    s.src = '/vendor/mpegts.js/mpegts.js';
    s.async = true;
    s.onload = () => {
      const m = window.mpegts;
      if (!m) { reject(new Error('mpegts.js did not load')); return; }
      // Our own handlers report what matters; the library's per-chunk logging is noise.
      m.LoggingControl.applyConfig({ enableAll: false, enableVerbose: false, enableDebug: false,
                                     enableInfo: false, enableWarn: false, enableError: false });
      resolve(m);
    };
    s.onerror = () => { mpegtsPromise = null; reject(new Error('Could not load the video player (mpegts.js)')); };
    document.head.append(s);
  });
  return mpegtsPromise;
}

// hls.js ships an ES module build.
export function loadHls() {
  hlsPromise ??= import('/vendor/hls.js/hls.min.mjs').then((m) => m.default,
    (err) => { hlsPromise = null; throw new Error(`Could not load the video player (hls.js): ${err.message}`); });
  return hlsPromise;
}

// MSE (or Safari 17.1+'s ManagedMediaSource) can take this H.264/AAC pair. `video` and `audio`
// are RFC 6381 codec strings from the stream state; Baseline 3.0 + AAC-LC when unknown.
export function mseSupports(video, audio) {
  const MS = window.ManagedMediaSource ?? window.MediaSource;
  if (!MS || typeof MS.isTypeSupported !== 'function') return false;
  const codecs = [video || 'avc1.42E01E', audio || null].filter(Boolean).join(',');
  try {
    return MS.isTypeSupported(`video/mp4; codecs="${codecs}"`);
  } catch {
    return false;
  }
}

export function nativeHls(video) {
  return video.canPlayType('application/vnd.apple.mpegurl') !== '';
}

// A ?player=flv|hls|native override (for testing a path by hand or in a browser test).
export function forcedEngine() {
  const p = new URLSearchParams(location.search).get('player');
  return ['flv', 'hls', 'native'].includes(p) ? p : null;
}
