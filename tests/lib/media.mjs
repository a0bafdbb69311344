// Video test helpers: real ffmpeg publishers, ffprobe as the validating player, a raw HTTP-FLV
// reader that parses tags, and a serve started with its RTMP listener on a free port.
// Every ffmpeg/ffprobe runs under `timeout -k 2 N`: a player blocked on a stalled live stream
// may ignore SIGTERM.
import { spawn, execFile } from 'node:child_process';
import http from 'node:http';
import { runChiron, startServe, waitFor } from './chiron.mjs';

export const haveFfmpeg = await new Promise((resolve) =>
  execFile('ffmpeg', ['-version'], (err) => resolve(!err)));

export const haveRtmpdump = await new Promise((resolve) =>
  execFile('rtmpdump', ['-h'], (err) => resolve(!err || err.code === 0 || err.code === 1)));

// `chiron serve` with RTMP on a free port; resolves once both listeners are known.
export async function startMediaServe(extraArgs = []) {
  const srv = await startServe(extraArgs);
  await waitFor(() => srv.listeners.rtmp, { what: 'listening rtmp=' });
  srv.rtmp = `rtmp://${srv.listeners.rtmp}/live`;
  return srv;
}

// Creates a user (and its channel) next to the running server; returns its stream key.
export async function addUser(srv, name) {
  const r = await runChiron(['user', 'add', name, '--password', 'password-' + name, '--data', srv.data]);
  if (r.code !== 0) throw new Error(`user add ${name}: ${r.stderr}`);
  const key = /stream_key=(\S+)/.exec(r.stdout)?.[1];
  if (!key) throw new Error(`no stream key in: ${r.stdout}`);
  return key;
}

// Publishes the test pattern (testsrc2 + sine, x264 + AAC) to `url` for `seconds`.
// Returns { proc, done } where done resolves to { code, stderr, ms }.
export function publish(url, { seconds = 10, size = '320x240', rate = 25, gop = 50, extra = [], realtime = true } = {}) {
  const args = ['-k', '2', String(seconds + 20), 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin',
    ...(realtime ? ['-re'] : []),
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`,
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=44100',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(gop), '-keyint_min', String(gop),
    '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-b:v', '500k',
    '-c:a', 'aac', '-b:a', '64k', '-ar', '44100', '-ac', '2',
    '-t', String(seconds), ...extra, '-f', 'flv', url];
  const started = Date.now();
  // Its own process group, so kill() reaches ffmpeg and not just `timeout`.
  const proc = spawn('timeout', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise((resolve) => proc.on('exit', (code, signal) =>
    resolve({ code, signal, stderr, ms: Date.now() - started })));
  const kill = (signal = 'SIGKILL') => { try { process.kill(-proc.pid, signal); } catch { /* gone */ } };
  return { proc, done, kill };
}

function run(cmd, args, timeoutS) {
  return new Promise((resolve) => {
    execFile('timeout', ['-k', '2', String(timeoutS), cmd, ...args], { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

// ffprobe's streams of a URL: [{codec_name, codec_type, width, height, sample_rate, channels}].
export async function probeStreams(url, { timeoutS = 15 } = {}) {
  const r = await run('ffprobe', ['-v', 'error', '-show_entries',
    'stream=codec_name,codec_type,width,height,sample_rate,channels', '-of', 'json', url], timeoutS);
  if (r.code !== 0) throw new Error(`ffprobe ${url} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout).streams;
}

// Video packet dts (seconds) over the first `seconds` of a URL.
export async function probeVideoDts(url, { seconds = 4, timeoutS = 20 } = {}) {
  const r = await run('ffprobe', ['-v', 'error', '-read_intervals', `%+${seconds}`, '-select_streams', 'v',
    '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', url], timeoutS);
  if (r.code !== 0) throw new Error(`ffprobe ${url} exited ${r.code}: ${r.stderr}`);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).map(Number);
}

export { run as runTimed };

// Reads an HTTP-FLV URL for `ms` (or until it ends) and parses it:
// { status, headers, header: Buffer(13), tags: [{type, size, ts, body(first 2 bytes), prevOk}], ended }.
export function readFlv(url, { ms = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks = [];
      let ended = false;
      const finish = () => {
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, ended, ...parseFlv(buf) });
      };
      const timer = setTimeout(() => { req.destroy(); finish(); }, ms);
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => { ended = true; finish(); });
      res.on('error', () => {});
    });
    req.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
  });
}

export function parseFlv(buf) {
  const tags = [];
  if (buf.length < 13) return { header: buf, tags };
  let pos = 13;
  while (pos + 11 <= buf.length) {
    const type = buf[pos];
    const size = buf.readUIntBE(pos + 1, 3);
    const ts = (buf.readUIntBE(pos + 4, 3) | (buf[pos + 7] << 24)) >>> 0;
    if (pos + 11 + size + 4 > buf.length) break;
    const prev = buf.readUInt32BE(pos + 11 + size);
    tags.push({ type, size, ts, b0: buf[pos + 11], b1: buf[pos + 12], prevOk: prev === size + 11 });
    pos += 11 + size + 4;
  }
  return { header: buf.subarray(0, 13), tags };
}
