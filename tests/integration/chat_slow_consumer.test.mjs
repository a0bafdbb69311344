// A chat member that stops reading must not cost the server memory or slow the others: a raw
// WebSocket client does the Engine.IO/Socket.IO handshake by hand, joins 30 rooms and never
// reads again while socket.io-client members post ~50 MB into them. The fast members get
// every message of their room in order; the stalled one is cut off (send queue cap, 1008); the server's RSS
// stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { sioConnect, sleep } from '../lib/chat.mjs';
import { startServe } from '../lib/chiron.mjs';


// The stalled client is in ROOMS rooms, each with one socket.io-client member posting PER_ROOM
// messages just under the server's rate limit (20/s per socket): ~48 MB aimed at the stalled
// client in ~11 s, while each poster receives only its own room (a frame or two per loop turn,
// well under the 64 KB cap every socket has here).
const ROOMS = 30;
const PER_ROOM = 200;
const PAD = 'x'.repeat(8_000);

const rssKb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

// RFC 6455 §5.2: a masked client text frame.
function clientText(text) {
  const payload = Buffer.from(text);
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len])
    : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

// Parses the server's (unmasked) frames from buf; returns [frames, rest].
function parseFrames(buf) {
  const frames = [];
  let p = 0;
  for (;;) {
    if (buf.length < p + 2) break;
    const opcode = buf[p] & 0x0f;
    let len = buf[p + 1] & 0x7f, off = p + 2;
    if (len === 126) { if (buf.length < off + 2) break; len = buf.readUInt16BE(off); off += 2; }
    else if (len === 127) { if (buf.length < off + 8) break; len = Number(buf.readBigUInt64BE(off)); off += 8; }
    if (buf.length < off + len) break;
    frames.push({ opcode, payload: buf.subarray(off, off + len) });
    p = off + len;
  }
  return [frames, buf.subarray(p)];
}

// A hand-made Socket.IO client: WebSocket upgrade, Engine.IO open, CONNECT, join `rooms`.
// onText(text) sees every later text frame while it reads; pause() stops reading for good.
async function rawMember(hostPort, rooms) {
  const [host, port] = hostPort.split(':');
  const sock = net.connect(Number(port), host);
  let buf = Buffer.alloc(0), upgraded = false;
  const texts = [];
  let wake = () => {};
  const member = { sock, onText: null, pause: () => { sock.removeAllListeners('data'); sock.pause(); } };
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 101/);
      upgraded = true;
      buf = buf.subarray(end + 4);
    }
    const [frames, rest] = parseFrames(buf);
    buf = rest;
    for (const f of frames) {
      if (f.opcode !== 1) continue;
      const text = f.payload.toString();
      if (text === '2') sock.write(clientText('3'));  // Engine.IO heartbeat
      if (member.onText) member.onText(text);
      else texts.push(text);
    }
    wake();
  });
  const waitText = (re, ms = 5000) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`raw client: no frame matching ${re} in ${ms} ms; got ${texts}`)), ms);
    const check = () => {
      const i = texts.findIndex((x) => re.test(x));
      if (i < 0) return;
      clearTimeout(t);
      wake = () => {};
      resolve(texts.splice(0, i + 1).pop());
    };
    wake = check;
    check();
  });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostPort}\r\nUpgrade: websocket\r\n` +
             `Connection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
             'Sec-WebSocket-Version: 13\r\n\r\n');
  await waitText(/^0\{/);                         // Engine.IO open
  sock.write(clientText('40'));
  await waitText(/^40\{"sid"/);                  // Socket.IO CONNECT ok
  for (const [i, room] of rooms.entries()) {
    sock.write(clientText(`42${i}["new user","${room}"]`));
    await waitText(new RegExp(`^43${i}\\[\\{"ok":true`));  // joined
  }
  return member;
}

// Resumes a stalled socket and reads until the server has closed it; returns what came.
function drain(sock, ms = 15000) {
  return new Promise((resolve) => {
    let bytes = 0, closeCode = null, buf = Buffer.alloc(0), upgradedRest = true;
    const done = (how) => { clearTimeout(t); resolve({ bytes, closeCode, how }); };
    const t = setTimeout(() => { sock.destroy(); done('timeout'); }, ms);
    sock.on('data', (d) => {
      bytes += d.length;
      if (!upgradedRest) return;
      buf = Buffer.concat([buf, d]);
      const [frames, rest] = parseFrames(buf);
      buf = rest;
      for (const f of frames) if (f.opcode === 8 && f.payload.length >= 2) closeCode = f.payload.readUInt16BE(0);
      if (buf.length > (1 << 20)) upgradedRest = false;  // lost frame sync: stop parsing, keep counting
    });
    sock.on('end', () => done('end'));
    sock.on('error', (e) => done(e.code));
    sock.resume();
  });
}

// Acks wait longer here: the server is busy flooding the stalled client.
const emitAck = (socket, ...args) => socket.timeout(10000).emitWithAck(...args);

test('a member that stops reading is cut off; the others get everything; RSS stays bounded', { timeout: 120000 }, async () => {
  const serve = await startServe(['--chat-anonymous', '--chat-send-queue-kb', '64']);
  const rooms = Array.from({ length: ROOMS }, (_, i) => `flood${i}`);
  const members = [];
  try {
    const stalled = await rawMember(serve.listeners.http, rooms);
    stalled.pause();  // never reads again (until the test looks)
    for (const room of rooms) {
      const m = await sioConnect(serve.url);
      members.push(m);
      assert.equal((await emitAck(m, 'new user', room)).ok, true);
    }
    const received = members.map((m) => {
      const seqs = [];
      m.on('new message', (msg) => seqs.push(msg.seq));
      return seqs;
    });
    const baseKb = rssKb(serve.proc.pid);
    let peakKb = baseKb;
    const sampler = setInterval(() => { peakKb = Math.max(peakKb, rssKb(serve.proc.pid)); }, 50);
    const acked = await Promise.all(members.map(async (m, i) => {
      const seqs = [];
      while (seqs.length < PER_ROOM) {
        const ack = await emitAck(m, 'new message', { room: rooms[i], text: `${seqs.length}`, pad: PAD });
        if (ack.ok) seqs.push(ack.seq);
        else assert.equal(ack.error, 'rate limited');
        await sleep(ack.ok ? 50 : 200);
      }
      return seqs;
    }));
    const deadline = Date.now() + 20000;
    while (received.some((r) => r.length < PER_ROOM) && Date.now() < deadline) await sleep(50);
    clearInterval(sampler);
    peakKb = Math.max(peakKb, rssKb(serve.proc.pid));
    for (const [i, r] of received.entries()) assert.deepEqual(r, acked[i]);  // everything, in seq order
    for (const m of members) assert.equal(m.connected, true);
    const growthMb = (peakKb - baseKb) / 1024;
    assert.ok(growthMb < 64, `server RSS grew ${growthMb.toFixed(1)} MB (base ${(baseKb / 1024).toFixed(1)} MB)`);
    // The stalled client got a small part of the flood, then the server closed it.
    const flood = ROOMS * PER_ROOM * PAD.length;
    const got = await drain(stalled.sock);
    assert.ok(got.bytes < flood / 4, `stalled client received ${got.bytes} of ${flood} bytes`);
    assert.ok(['end', 'ECONNRESET', 'EPIPE'].includes(got.how), `stalled socket: ${got.how}`);
    if (got.closeCode !== null) assert.equal(got.closeCode, 1008);
    console.log(`flood ${(flood / 1e6).toFixed(0)} MB; stalled client got ${(got.bytes / 1e6).toFixed(1)} MB then ${got.how}` +
                ` (close code ${got.closeCode}); server RSS ${(baseKb / 1024).toFixed(1)} → peak ${(peakKb / 1024).toFixed(1)} MB`);
  } finally {
    for (const m of members) m.close();
    await serve.stop();
  }
});
