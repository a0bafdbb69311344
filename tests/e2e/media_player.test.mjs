// The channel page's video player in a real browser (issue 6): ffmpeg publishes the test pattern
// over RTMP, Debian's headless Chromium plays /live/<channel>.flv through mpegts.js (Media Source
// Extensions) on /c/<channel>, and the page goes live and back offline by itself, driven by the
// stream state alone; the hls.js fallback plays the HLS playlist. Also: the owner sees the health
// hints and viewers do not; the settings page shows the OBS instructions with the real key; a
// recorded session plays on its session page (when the server records). Every wait is bounded;
// ffmpeg runs under `timeout` in its own process group.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { httpJson, startServe, waitFor } from '../lib/chiron.mjs';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { newUser, open, apiAs } from '../lib/platform.mjs';
import { addUser, haveFfmpeg, publish } from '../lib/media.mjs';

const NAME = 'alice';
const PASSWORD = `password-${NAME}`;  // what addUser gives the user
const H264_AAC = 'video/mp4; codecs="avc1.42E01E,mp4a.40.2"';

let srv, browser, key;
let mseH264 = null;
const publishers = [];
const problems = [];

const stateOf = async (channel) => (await httpJson(`${srv.url}/api/v1/channels/${channel}/stream`)).body;
const videoTime = (page) => page.evaluate(() => document.getElementById('player-video').currentTime);
const shot = (page, name) => saveScreenshot(page, name, { docs: true, docsDir: 'docs/screenshots' });

async function loginAs(page, name, password) {
  const res = await page.request.post(`${srv.url}/api/v1/auth/login`, {
    headers: { 'Content-Type': 'application/json' }, data: JSON.stringify({ name, password }),
  });
  assert.equal(res.status(), 200, `login ${name}: ${await res.text()}`);
}

// The picture moves: currentTime advances by ≥ `seconds` within `withinMs` once playback began.
async function assertPlays(page, { seconds = 3, withinMs = 6000, startMs = 15000, what = 'video' } = {}) {
  await page.waitForFunction(() => document.getElementById('player-video')?.currentTime > 0 ||
                                   document.getElementById('recording-video')?.currentTime > 0,
                             null, { timeout: startMs })
    .catch(() => { throw new Error(`${what}: playback did not start within ${startMs} ms`); });
  const id = await page.evaluate(() => (document.getElementById('player-video')?.currentTime > 0 ? 'player-video' : 'recording-video'));
  const t0 = await page.evaluate((i) => document.getElementById(i).currentTime, id);
  await page.waitForFunction(([i, t]) => document.getElementById(i).currentTime >= t, [id, t0 + seconds], { timeout: withinMs })
    .catch(async () => {
      const t1 = await page.evaluate((i) => document.getElementById(i).currentTime, id);
      throw new Error(`${what}: currentTime went ${t0.toFixed(2)} → ${t1.toFixed(2)} s in ${withinMs} ms (wanted +${seconds} s)`);
    });
}

before(async () => {
  browser = await launchChromium();
  // H.264 in MSE depends on the Chromium build (proprietary codecs); Debian's has it.
  const page = await browser.newPage();
  mseH264 = await page.evaluate((t) => Boolean(window.MediaSource && MediaSource.isTypeSupported(t)), H264_AAC);
  await page.close();
});

// One server for the video tests, started by the first that needs it; fails clearly (and every
// later test with it) when the binary prints no "listening rtmp=".
let serving = null;
function startServer() {
  serving ??= (async () => {
    srv = await startServe();  // assigned before the wait, so after() stops it either way
    await waitFor(() => srv.listeners.rtmp, { what: 'the server\'s "listening rtmp=" line' });
    key = await addUser(srv, NAME);
  })();
  return serving;
}

after(async () => {
  for (const p of publishers) p.kill();
  await browser?.close();
  await srv?.stop();
});

test(`Chromium's MediaSource supports ${H264_AAC}`, (t) => {
  t.diagnostic(`MediaSource.isTypeSupported('${H264_AAC}') = ${mseH264}`);
  assert.equal(mseH264, true, 'this Chromium build has no H.264 in MSE: mpegts.js and hls.js cannot play; only native HLS would');
});

test('the channel page plays the live stream over HTTP-FLV and goes offline by itself', { timeout: 120000 }, async (t) => {
  if (!haveFfmpeg) { t.skip('ffmpeg is not installed'); return; }
  if (!mseH264) { t.skip('no H.264 in MSE in this Chromium (see the test above)'); return; }
  await startServer();
  const viewer = await newUser(browser, problems);
  const owner = await newUser(browser, problems);
  await loginAs(owner, NAME, PASSWORD);

  await open(viewer, `${srv.url}/c/${NAME}`);
  assert.equal(await viewer.getAttribute('#player', 'data-state'), 'offline');
  assert.match(await viewer.textContent('#player-title'), /Offline/);
  assert.match(await viewer.textContent('#player-text'), new RegExp(`starts when ${NAME} goes live in OBS`));
  assert.equal(await viewer.isVisible('#player-video'), false);

  const pub = publish(`rtmp://${srv.listeners.rtmp}/live/${key}`, { seconds: 30 });
  publishers.push(pub);
  await waitFor(async () => (await stateOf(NAME)).state === 'live', { timeoutMs: 15000, intervalMs: 200, what: 'stream state live' })
    .catch(async (err) => { throw new Error(`${err.message}; ffmpeg: ${(await Promise.race([pub.done, Promise.resolve({ stderr: '(running)' })])).stderr}`); });

  // The open page switches by itself (the `stream` event), no reload.
  await viewer.waitForSelector('#player[data-state="live"]', { timeout: 10000 });
  await viewer.waitForSelector('#live-badge', { state: 'visible', timeout: 5000 });
  assert.equal(await viewer.textContent('#live-badge'), 'LIVE');
  await assertPlays(viewer, { what: 'viewer, HTTP-FLV' });
  assert.equal(await viewer.getAttribute('#player', 'data-engine'), 'flv', 'mpegts.js on /live/<channel>.flv');
  assert.equal(await viewer.evaluate(() => document.getElementById('player-video').muted), true, 'autoplay starts muted');
  const size = await viewer.evaluate(() => [document.getElementById('player-video').videoWidth, document.getElementById('player-video').videoHeight]);
  assert.deepEqual(size, [320, 240], 'the decoded picture is the test pattern');
  await viewer.waitForFunction(() => /320×240/.test(document.getElementById('stream-facts').textContent), null, { timeout: 10000 });
  assert.match(await viewer.textContent('#stream-facts'), /HTTP-FLV/);
  assert.equal(await viewer.isVisible('#stream-viewers'), true);
  assert.match(await viewer.textContent('#stream-viewers'), /^\d+ watching$/);
  assert.equal(await viewer.isVisible('#stream-health'), false, 'health hints are for the owner only');
  await viewer.click('#unmute');
  assert.equal(await viewer.evaluate(() => document.getElementById('player-video').muted), false, 'unmute turns the sound on');
  assert.equal(await viewer.textContent('#unmute-label'), 'Mute');

  // The owner, in another browser context, gets the picture and the health hints.
  await open(owner, `${srv.url}/c/${NAME}`);
  await owner.waitForSelector('#player[data-state="live"]', { timeout: 10000 });
  await assertPlays(owner, { what: 'owner, HTTP-FLV' });
  await owner.waitForSelector('#stream-health', { state: 'visible', timeout: 5000 });
  assert.ok((await owner.locator('#health-list li').count()) >= 1);
  await viewer.waitForFunction(() => /^[1-9]\d* watching$/.test(document.getElementById('stream-viewers').textContent),
                               null, { timeout: 15000 }).catch(() => {});  // counted by the next state, when it comes
  await shot(owner, 'channel-live.png');

  // The publisher dies: both pages drop the video and show the offline poster by themselves.
  pub.kill();
  await viewer.waitForSelector('#player[data-state="offline"]', { timeout: 10000 })
    .catch(() => { throw new Error('the viewer page did not go offline within 10 s of the publisher dying'); });
  await owner.waitForSelector('#player[data-state="offline"]', { timeout: 10000 });
  assert.equal(await viewer.isVisible('#player-video'), false);
  assert.equal(await viewer.isVisible('#live-badge'), false);
  assert.equal(await viewer.getAttribute('#player', 'data-engine'), null, 'the player was destroyed');
  assert.match(await viewer.textContent('#player-title'), /Offline|No video/);
  assert.equal(await owner.isVisible('#stream-health'), false);
  const t1 = await videoTime(viewer);
  await viewer.waitForTimeout(1500);
  assert.equal(await videoTime(viewer), t1, 'nothing plays after the stream ended');
  assert.deepEqual(problems, []);
});

test('the HLS fallback (hls.js, forced with ?player=hls) plays the same stream', { timeout: 120000 }, async (t) => {
  if (!haveFfmpeg) { t.skip('ffmpeg is not installed'); return; }
  if (!mseH264) { t.skip('no H.264 in MSE in this Chromium: hls.js needs it too'); return; }
  await startServer();
  await waitFor(async () => (await stateOf(NAME)).state === 'offline', { timeoutMs: 10000, what: 'offline before the publish' });
  const pub = publish(`rtmp://${srv.listeners.rtmp}/live/${key}`, { seconds: 40 });
  publishers.push(pub);
  await waitFor(async () => (await stateOf(NAME)).state === 'live', { timeoutMs: 15000, intervalMs: 200, what: 'stream state live' });
  const viewer = await newUser(browser, problems);
  await open(viewer, `${srv.url}/c/${NAME}?player=hls`);
  await viewer.waitForSelector('#player[data-state="live"]', { timeout: 10000 });
  // The first segment is complete only after a keyframe interval or two.
  await assertPlays(viewer, { seconds: 2, withinMs: 8000, startMs: 25000, what: 'viewer, HLS' });
  assert.equal(await viewer.getAttribute('#player', 'data-engine'), 'hls');
  assert.match(await viewer.textContent('#stream-facts'), /HLS/);
  pub.kill();
  await viewer.waitForSelector('#player[data-state="offline"]', { timeout: 10000 });
  assert.equal(await viewer.getAttribute('#player', 'data-engine'), null, 'the player was destroyed');
  assert.deepEqual(problems, []);
});

test('settings show the OBS instructions with the stream key and the record switch when the server records', { timeout: 60000 }, async (t) => {
  if (!haveFfmpeg) { t.skip('ffmpeg is not installed'); return; }
  await startServer();
  const owner = await newUser(browser, problems);
  await loginAs(owner, NAME, PASSWORD);
  await open(owner, `${srv.url}/settings`);
  const rtmpPort = srv.listeners.rtmp.split(':').pop();
  await owner.waitForFunction((p) => document.getElementById('rtmp-url').textContent === `rtmp://127.0.0.1:${p}/live`,
    rtmpPort, { timeout: 5000 });
  assert.match(await owner.textContent('#obs-output'), /Keyframe interval\s*2 s/);
  assert.match(await owner.textContent('#obs-output'), /veryfast/);
  await owner.click('#obs-h ~ dl [data-reveal="stream-key"]');
  await owner.waitForFunction((k) => document.getElementById('obs-key').textContent === k, key, { timeout: 5000 });
  assert.equal(await owner.inputValue('#stream-key'), key, 'both reveal buttons show the same key');
  assert.match(await owner.textContent('#ffmpeg-cmd'), new RegExp(`-g 60 .*rtmp://127\\.0\\.0\\.1:${rtmpPort}/live/${key}$`));
  const channel = (await apiAs(owner, srv.url, 'GET', `/channels/${NAME}`)).body;
  const records = typeof channel.record === 'boolean';
  assert.equal(await owner.isVisible('#record-box'), records, 'the record switch shows exactly when the channel JSON has `record`');
  if (records) {
    await owner.click('#record');
    await owner.waitForFunction(() => /Recording (on|off)/.test(document.getElementById('record-saved').textContent), null, { timeout: 5000 });
    assert.equal((await apiAs(owner, srv.url, 'GET', `/channels/${NAME}`)).body.record, !channel.record);
  }
  await owner.click('#obs-h ~ dl [data-reveal="stream-key"]');  // hidden again for the screenshot
  await owner.waitForFunction(() => document.getElementById('stream-key').type === 'password', null, { timeout: 5000 });
  assert.equal((await owner.evaluate(() => document.body.innerText)).includes(key), false, 'a hidden key is nowhere on the page');
  await owner.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(owner, 'settings-obs.png', { docs: true, docsDir: 'docs/screenshots', fullPage: true });
  assert.deepEqual(problems, []);
});

test('a recorded session plays on its session page', { timeout: 90000 }, async (t) => {
  if (!haveFfmpeg) { t.skip('ffmpeg is not installed'); return; }
  if (!mseH264) { t.skip('no H.264 in MSE in this Chromium'); return; }
  await startServer();
  const owner = await newUser(browser, problems);
  await loginAs(owner, NAME, PASSWORD);
  const channel = (await apiAs(owner, srv.url, 'GET', `/channels/${NAME}`)).body;
  if (typeof channel.record !== 'boolean') { t.skip('this server does not record (no `record` in the channel JSON)'); return; }
  const patched = await apiAs(owner, srv.url, 'PATCH', `/channels/${NAME}`, { record: true });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  await waitFor(async () => (await stateOf(NAME)).state === 'offline', { timeoutMs: 10000, what: 'offline before the recorded publish' });
  const pub = publish(`rtmp://${srv.listeners.rtmp}/live/${key}`, { seconds: 8 });
  publishers.push(pub);
  const done = await pub.done;
  assert.equal(done.code, 0, `ffmpeg: ${done.stderr}`);
  const session = await waitFor(async () => {
    const { sessions } = (await apiAs(owner, srv.url, 'GET', `/channels/${NAME}/sessions`)).body;
    const s = sessions?.find((x) => x.ended_at && x.source === 'rtmp');
    if (!s) return null;
    const full = (await apiAs(owner, srv.url, 'GET', `/sessions/${s.id}`)).body;
    if (full.recording) return full;
    const rec = await apiAs(owner, srv.url, 'GET', `/sessions/${s.id}/recording`);  // the separate route, if any
    return rec.status === 200 ? { ...full, recording: rec.body } : null;
  }, { timeoutMs: 15000, intervalMs: 250, what: 'an ended session with a recording' });
  await open(owner, `${srv.url}/s/${session.id}`);
  await owner.waitForSelector('#recording', { state: 'visible', timeout: 5000 });
  await owner.evaluate(() => { const v = document.getElementById('recording-video'); v.muted = true; return v.play(); });
  await assertPlays(owner, { seconds: 2, withinMs: 5000, what: 'recording' });
  assert.match(await owner.textContent('#recording-info'), /download \(FLV\)/);
  await shot(owner, 'session-recording.png');
  assert.deepEqual(problems, []);
});
