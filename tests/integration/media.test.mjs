// Live video end to end with real peers: ffmpeg publishes over RTMP, ffprobe plays HTTP-FLV,
// RTMP and HLS, a raw reader checks the FLV bytes, an edge relays from an origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, httpJson, startServe, waitFor, wsConnect } from '../lib/chiron.mjs';
import path from 'node:path';
import { addUser, haveFfmpeg, haveRtmpdump, parseFlv, runTimed, probeStreams, probeVideoDts, publish, readFlv, startMediaServe } from '../lib/media.mjs';

const skip = haveFfmpeg ? false : 'ffmpeg is not installed';

const streamState = async (srv, channel) => (await httpJson(`${srv.url}/api/v1/channels/${channel}/stream`)).body;
const waitLive = (srv, channel, timeoutMs = 10000) =>
  waitFor(async () => (await streamState(srv, channel)).state === 'live', { timeoutMs, intervalMs: 100, what: `${channel} live` });
const waitOffline = (srv, channel, timeoutMs = 5000) =>
  waitFor(async () => (await streamState(srv, channel)).state === 'offline', { timeoutMs, intervalMs: 100, what: `${channel} offline` });

function assertTestPattern(streams, what) {
  assert.equal(streams.length, 2, `${what}: exactly one video and one audio stream, no data stream: ${JSON.stringify(streams)}`);
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  assert.equal(v?.codec_name, 'h264', what);
  assert.equal(v.width, 320);
  assert.equal(v.height, 240);
  assert.equal(a?.codec_name, 'aac', what);
  assert.equal(Number(a.sample_rate), 44100);
  assert.equal(a.channels, 2);
}

test('a publish plays over HTTP-FLV, RTMP and HLS, reports its state, and ends cleanly', { skip, timeout: 90000 }, async () => {
  const srv = await startMediaServe();
  try {
    const key = await addUser(srv, 'alice');
    assert.equal((await streamState(srv, 'alice')).state, 'offline');
    assert.equal((await httpJson(`${srv.url}/live/alice.flv`)).status, 404, 'offline channel: 404');
    const live = await wsConnect(`${srv.url.replace('http', 'ws')}/api/v1/live?channel=alice`);
    const pub = publish(`${srv.rtmp}/${key}`, { seconds: 14 });
    await waitLive(srv, 'alice');

    assertTestPattern(await probeStreams(`${srv.url}/live/alice.flv`), 'HTTP-FLV');
    assertTestPattern(await probeStreams(`${srv.rtmp}/alice`), 'RTMP play');

    // The FLV bytes: header, then metadata, sequence headers, and a keyframe first.
    const flv = await readFlv(`${srv.url}/live/alice.flv`, { ms: 1500 });
    assert.equal(flv.status, 200);
    assert.equal(flv.headers['content-type'], 'video/x-flv');
    assert.equal(flv.headers['transfer-encoding'], 'chunked');
    assert.equal(flv.header.toString('hex'), '464c5601050000000900000000');
    assert.ok(flv.tags.length > 10, `tags arrived: ${flv.tags.length}`);
    assert.ok(flv.tags.every((t) => t.prevOk), 'every PreviousTagSize = 11 + DataSize');
    assert.equal(flv.tags[0].type, 18, 'script tag first');
    assert.deepEqual([flv.tags[1].type, flv.tags[1].b0, flv.tags[1].b1], [8, 0xaf, 0], 'AAC sequence header');
    assert.deepEqual([flv.tags[2].type, flv.tags[2].b0, flv.tags[2].b1], [9, 0x17, 0], 'AVC sequence header');
    const firstFrame = flv.tags.slice(3).find((t) => t.type === 9);
    assert.deepEqual([firstFrame.b0, firstFrame.b1], [0x17, 1], 'the first video frame is a keyframe');

    // HLS: a playlist of keyframe-aligned segments that ffprobe plays.
    const playlistUrl = `${srv.url}/live/alice/index.m3u8`;
    await waitFor(async () => (await httpJson(playlistUrl)).status === 200, { timeoutMs: 8000, what: 'HLS playlist' });
    const m3u8 = (await httpJson(playlistUrl)).body;
    assert.match(m3u8, /^#EXTM3U/);
    const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(m3u8)[1]);
    const extinf = [...m3u8.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    assert.ok(extinf.length >= 1);
    for (const d of extinf) assert.ok(Math.round(d) <= target, `EXTINF ${d} <= TARGETDURATION ${target}`);
    assertTestPattern(await probeStreams(playlistUrl), 'HLS');

    // State: numbers from the stream itself, and the live event.
    const st = await streamState(srv, 'alice');
    assert.equal(st.width, 320);
    assert.equal(st.height, 240);
    assert.match(st.video_codec, /^avc1\./);
    assert.equal(st.audio_codec, 'mp4a.40.2');
    assert.ok(st.bitrate > 50, `bitrate ${st.bitrate}`);
    assert.ok(st.fps > 15 && st.fps < 35, `fps ${st.fps}`);
    assert.equal(st.keyframe_interval, 2);
    let ev;
    do { ev = await live.next(5000); } while (ev.type !== 'stream');
    assert.equal(ev.state, 'live');

    // A viewer present when the publisher stops gets the end of the body.
    const tail = readFlv(`${srv.url}/live/alice.flv`, { ms: 25000 });
    const done = await pub.done;
    assert.equal(done.code, 0, done.stderr);
    const ended = await tail;
    assert.ok(ended.ended, 'HTTP-FLV viewer got EOF when the stream ended');
    await waitOffline(srv, 'alice');
    do { ev = await live.next(5000); } while (ev.type !== 'stream' || ev.state !== 'offline');
    live.close();
    // The publish was a live session of the channel.
    const sessions = (await httpJson(`${srv.url}/api/v1/channels/alice/sessions`)).body.sessions;
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].source, 'rtmp');
    assert.ok(sessions[0].ended_at, 'the session ended with the stream');
  } finally {
    await srv.stop();
  }
});

test('a late joiner starts at a keyframe at once (GOP cache)', { skip, timeout: 60000 }, async () => {
  const srv = await startMediaServe();
  try {
    const key = await addUser(srv, 'bob');
    const pub = publish(`${srv.rtmp}/${key}`, { seconds: 12, gop: 100 });  // 4 s GOP
    await waitLive(srv, 'bob');
    await new Promise((r) => setTimeout(r, 2500));  // mid-GOP
    const started = Date.now();
    const flv = await readFlv(`${srv.url}/live/bob.flv`, { ms: 800 });
    const frames = flv.tags.filter((t) => t.type === 9 && t.b1 === 1);
    assert.ok(frames.length > 0, 'video frames arrived within 0.8 s of joining');
    assert.equal(frames[0].b0, 0x17, 'the first frame is a keyframe');
    assert.ok(Date.now() - started < 2000);
    // librtmp (rtmpdump; OBS's RTMP client comes from the same code) plays the stream too.
    if (haveRtmpdump) {
      const out = path.join(srv.data, 'dump.flv');
      await runTimed('rtmpdump', ['-q', '-v', '-r', `${srv.rtmp}/bob`, '--stop', '3', '-o', out], 15);
      assertTestPattern(await probeStreams(out), 'rtmpdump');
    }
    pub.kill();
    await pub.done;
  } finally {
    await srv.stop();
  }
});

test('wrong stream keys and second publishers are refused; a killed publisher goes offline', { skip, timeout: 60000 }, async () => {
  const srv = await startMediaServe();
  try {
    const key = await addUser(srv, 'carol');
    const wrong = await publish(`${srv.rtmp}/sk_not_a_key`, { seconds: 5 }).done;
    assert.notEqual(wrong.code, 0, 'a wrong key fails the publish');
    assert.ok(wrong.ms < 5000, `refused quickly (${wrong.ms} ms)`);
    assert.equal((await streamState(srv, 'carol')).state, 'offline');

    const first = publish(`${srv.rtmp}/${key}`, { seconds: 30 });
    await waitLive(srv, 'carol');
    const second = await publish(`${srv.rtmp}/${key}`, { seconds: 5 }).done;
    assert.notEqual(second.code, 0, 'a second publisher is refused');
    assert.equal((await streamState(srv, 'carol')).state, 'live', 'the first publisher goes on');
    assertTestPattern(await probeStreams(`${srv.url}/live/carol.flv`), 'still playing');

    first.kill('SIGKILL');
    await first.done;
    await waitOffline(srv, 'carol');
    assert.equal((await httpJson(`${srv.url}/live/carol.flv`)).status, 404);
  } finally {
    await srv.stop();
  }
});

test('timestamps past the 24-bit RTMP field stay monotonic (extended timestamps)', { skip, timeout: 60000 }, async () => {
  const srv = await startMediaServe();
  try {
    const key = await addUser(srv, 'dave');
    // 16775 s + a few seconds crosses 0xFFFFFF ms = 16777.215 s.
    const pub = publish(`${srv.rtmp}/${key}`, { seconds: 10, extra: ['-output_ts_offset', '16775'] });
    await waitLive(srv, 'dave');
    for (const url of [`${srv.url}/live/dave.flv`, `${srv.rtmp}/dave`]) {
      const dts = await probeVideoDts(url, { seconds: 5 });
      assert.ok(dts.length > 50, `${url}: packets ${dts.length}`);
      for (let i = 1; i < dts.length; i++) assert.ok(dts[i] > dts[i - 1], `${url}: dts ${dts[i - 1]} → ${dts[i]}`);
      assert.ok(dts[0] > 16770 && dts.at(-1) > 16777.215, `${url}: crossed 16777.215 s (${dts[0]} → ${dts.at(-1)})`);
    }
    pub.kill();
    await pub.done;
  } finally {
    await srv.stop();
  }
});

test('an edge relays a channel from its origin only while it has viewers', { skip, timeout: 60000 }, async () => {
  const origin = await startMediaServe();
  const edge = await startServe(['--origin', origin.listeners.http, '--ns', 'off', '--rtmp', 'off']);
  try {
    const key = await addUser(origin, 'erin');
    const pub = publish(`${origin.rtmp}/${key}`, { seconds: 25 });
    await waitLive(origin, 'erin');
    const originViewers = async () =>
      (await httpJson(`${origin.url}/api/v1/media/streams`)).body.streams.find((s) => s.channel === 'erin')?.viewers ?? -1;
    assert.equal(await originViewers(), 0);

    assertTestPattern(await probeStreams(`${edge.url}/live/erin.flv`), 'edge HTTP-FLV');
    // Two viewers on the edge share one upstream.
    const a = readFlv(`${edge.url}/live/erin.flv`, { ms: 3000 });
    const b = readFlv(`${edge.url}/live/erin.flv`, { ms: 3000 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await originViewers(), 1, 'one pull from the edge');
    const edgeStreams = (await httpJson(`${edge.url}/api/v1/media/streams`)).body.streams;
    assert.equal(edgeStreams[0].channel, 'erin');
    assert.equal(edgeStreams[0].relayed, true);
    assert.equal(edgeStreams[0].viewers, 2);
    for (const r of await Promise.all([a, b])) {
      assert.equal(r.status, 200);
      assert.ok(r.tags.some((t) => t.type === 9 && t.b0 === 0x17 && t.b1 === 1), 'edge viewers get keyframes');
    }
    // No viewers left: the edge drops its pull (5 s idle).
    await waitFor(async () => (await originViewers()) === 0, { timeoutMs: 12000, intervalMs: 250, what: 'edge pull stopped' });
    pub.kill();
    await pub.done;
  } finally {
    await edge.stop();
    await origin.stop();
  }
});

test('private streams are only for readers; recorded sessions play back afterwards', { skip, timeout: 60000 }, async () => {
  const srv = await startMediaServe();
  try {
    const key = await addUser(srv, 'frank');
    const frank = new Browser(srv.url);
    assert.equal((await frank.req('POST', '/api/v1/auth/login', { body: { name: 'frank', password: 'password-frank' } })).status, 200);
    const patched = await frank.req('PATCH', '/api/v1/channels/frank', { body: { private: true, record: true } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.record, true);

    const pub = publish(`${srv.rtmp}/${key}`, { seconds: 6 });
    await waitFor(async () => (await frank.req('GET', '/api/v1/channels/frank/stream')).json?.state === 'live',
      { timeoutMs: 10000, what: 'frank live (as the owner)' });
    // Anonymous viewers see nothing of a private channel: no state, no FLV, no HLS, no RTMP.
    assert.equal((await httpJson(`${srv.url}/api/v1/channels/frank/stream`)).status, 404);
    assert.equal((await httpJson(`${srv.url}/live/frank.flv`)).status, 404);
    assert.equal((await httpJson(`${srv.url}/live/frank/index.m3u8`)).status, 404);
    await assert.rejects(probeStreams(`${srv.rtmp}/frank`, { timeoutS: 8 }));
    // The owner's cookie opens the HTTP-FLV stream.
    const res = await fetch(`${srv.url}/live/frank.flv`, { headers: { cookie: frank.cookie }, signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    await res.body.cancel();

    assert.equal((await pub.done).code, 0);
    const sessions = (await frank.req('GET', '/api/v1/channels/frank/sessions')).json.sessions;
    assert.equal(sessions.length, 1);
    const id = sessions[0].id;
    let rec;
    await waitFor(async () => { rec = await frank.req('GET', `/api/v1/sessions/${id}/recording`); return rec.status === 200; },
      { timeoutMs: 8000, what: 'the recording is listed' });
    assert.equal(rec.json.url, `/api/v1/sessions/${id}/recording.flv`);
    assert.ok(rec.json.bytes > 50000, `bytes ${rec.json.bytes}`);
    assert.ok(rec.json.duration_s > 4 && rec.json.duration_s < 8, `duration ${rec.json.duration_s}`);
    assert.equal((await httpJson(`${srv.url}/api/v1/sessions/${id}/recording`)).status, 404, 'private: not for anonymous');
    // The file is a complete FLV that ffprobe reads (fetched with the owner's cookie).
    const file = await fetch(srv.url + rec.json.url, { headers: { cookie: frank.cookie } });
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'video/x-flv');
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(bytes.length, rec.json.bytes);
    const { tags } = parseFlv(bytes);
    assert.ok(tags.every((t) => t.prevOk));
    assert.deepEqual([tags[0].type, tags.find((t) => t.type === 9 && t.b1 === 1).b0], [18, 0x17], 'metadata first, keyframe first');
    const ranged = await fetch(srv.url + rec.json.url, { headers: { cookie: frank.cookie, range: 'bytes=0-12' } });
    assert.equal(ranged.status, 206);
    assert.equal(Buffer.from(await ranged.arrayBuffer()).toString('hex').slice(0, 6), '464c56');
  } finally {
    await srv.stop();
  }
});
