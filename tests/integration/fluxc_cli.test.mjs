// chiron fluxc, the real binary on the golden inputs: the fluxional text on stdout and in -f,
// the JSON in -g (which lists the same fluxions), -v's summary, exit codes 1/2/3 with their
// messages, and byte-identical output across two runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runChiron, tempDir, SOURCE_DIR } from '../lib/chiron.mjs';

const GOLDEN = path.join(SOURCE_DIR, 'tests/fluxc/golden');
const golden = (name) => path.join(GOLDEN, name);

// Header and stream lines of fluxional text.
const structure = (text) => text.split('\n').filter((l) => /^(flx |>> |-> )/.test(l));

test('fluxc prints Listing 2 for Listing 1 on stdout', async () => {
  const r = await runChiron(['fluxc', golden('listing1.js')]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(structure(r.stdout), ['flx main & grp_res', '>> handler [res]', 'flx handler', '-> reply [res]',
                                         'flx reply & grp_res {count, template}', '-> null']);
  assert.match(r.stdout, /^ {2}function handler\(req, res\)\{\n {6}fs\.readFile\(__filename, -> reply\);\n {2}\}$/m);
  assert.equal(r.stderr, '');
});

test('every golden compiles to its expected structure, byte-identical across two runs', async () => {
  for (const name of ['listing1', 'figure5', 'count3', 'count4', 'count5', 'persistent_stream', 'listing3']) {
    const a = await runChiron(['fluxc', golden(`${name}.js`)]);
    const b = await runChiron(['fluxc', golden(`${name}.js`)]);
    assert.equal(a.code, 0, `${name}: ${a.stderr}`);
    assert.equal(a.stdout, b.stdout, `${name}: two runs differ`);
    const want = readFileSync(golden(`${name}.flx`), 'utf8');
    assert.deepEqual(structure(a.stdout), structure(want), name);
  }
});

test('-f and -g write the text and the JSON; the JSON describes the same graph', async () => {
  const dir = tempDir('chiron-fluxc-');
  const flx = path.join(dir, 'out.flx');
  const json = path.join(dir, 'out.json');
  const r = await runChiron(['fluxc', golden('figure5.js'), '-f', flx, '-g', json]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'nothing on stdout when an output file is given');
  const text = readFileSync(flx, 'utf8');
  assert.deepEqual(structure(text), ['flx main', '>> onReq [req]', 'flx onReq', '-> add [b]', 'flx add & grp_c {a, c}',
                                     '-> end', 'flx end & grp_c {c}', '-> null']);
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(doc.version, 1);
  assert.deepEqual(doc.fluxions.map((f) => f.id), ['main', 'onReq', 'add', 'end']);
  assert.deepEqual(doc.fluxions.find((f) => f.id === 'add').tags, ['grp_c']);
  const byName = Object.fromEntries(doc.variables.map((v) => [v.name, v]));
  assert.equal(byName.a.class, 'scope');
  assert.equal(byName.b.class, 'stream');
  assert.equal(byName.c.class, 'share');
  assert.equal(byName.fs.class, 'import');
  assert.deepEqual(doc.requires, ['express', 'fs']);
  assert.equal(doc.fluxions[0].streams[0].callee, 'app.get');
  assert.equal(doc.fluxions[0].streams[0].type, 'start');
  // Same bytes again.
  const again = await runChiron(['fluxc', golden('figure5.js'), '-g', '-']);
  assert.equal(again.stdout, readFileSync(json, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
});

test('--callees makes getRawBody a start callee; -v lists fluxions and skipped calls', async () => {
  const post = await runChiron(['fluxc', golden('listing3.js'), '-v']);
  assert.equal(post.code, 0, post.stderr);
  assert.deepEqual(structure(post.stdout), ['flx main & grp_req', '-> anonymous_1000 [req, next]',
                                            'flx anonymous_1000 & grp_req', '-> null']);
  assert.match(post.stderr, /2 fluxions, 1 rupture points, 1 skipped/);
  assert.match(post.stderr, /skipped app\.post at .*listing3\.js:18:1: argument 2 is not a function written in place \(bodyParser\(\.\.\.\)\)/);
  const start = await runChiron(['fluxc', golden('listing3.js'), '--callees', golden('listing3_start.callees.json')]);
  assert.equal(start.code, 0, start.stderr);
  assert.match(structure(start.stdout)[1], /^>> anonymous_1000 \[req, /);
});

test('exit codes: 1 unreadable or unparsable, 2 usage or bad --callees, 3 eval/with', async () => {
  const dir = tempDir('chiron-fluxc-');
  const missing = await runChiron(['fluxc', path.join(dir, 'nope.js')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.js: cannot read/);

  const broken = path.join(dir, 'broken.js');
  writeFileSync(broken, 'var a = 1;\nvar b = (;\n');
  const syntax = await runChiron(['fluxc', broken]);
  assert.equal(syntax.code, 1);
  assert.match(syntax.stderr, /broken\.js:2:\d+: syntax error/);

  const evil = path.join(dir, 'evil.js');
  writeFileSync(evil, 'var x = 1;\neval("x");\n');
  const ev = await runChiron(['fluxc', evil]);
  assert.equal(ev.code, 3);
  assert.match(ev.stderr, /evil\.js:2:\d+: .*eval/);
  const withFile = path.join(dir, 'with.js');
  writeFileSync(withFile, 'var o = {};\nwith (o) { y = 1; }\n');
  const wi = await runChiron(['fluxc', withFile]);
  assert.equal(wi.code, 3);
  assert.match(wi.stderr, /with\.js:2:1: `with` is not supported/);

  const noInput = await runChiron(['fluxc']);
  assert.equal(noInput.code, 2);
  assert.match(noInput.stderr, /missing INPUT\.js/);
  const unknown = await runChiron(['fluxc', golden('listing1.js'), '--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option --frobnicate/);
  const dangling = await runChiron(['fluxc', golden('listing1.js'), '-f']);
  assert.equal(dangling.code, 2);

  const badCallees = path.join(dir, 'callees.json');
  writeFileSync(badCallees, '{"start": ["fs read"]}');
  const bc = await runChiron(['fluxc', golden('listing1.js'), '--callees', badCallees]);
  assert.equal(bc.code, 2);
  assert.match(bc.stderr, /callees: start\[0\]: callee "fs read": bad character/);
  const noCallees = await runChiron(['fluxc', golden('listing1.js'), '--callees', path.join(dir, 'none.json')]);
  assert.equal(noCallees.code, 2);
  rmSync(dir, { recursive: true, force: true });
});
