// A real run on the runtime, recorded and drawn: chiron demo overlap --trace, then chiron trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runChiron, tempDir } from '../lib/chiron.mjs';

test('demo overlap records a trace that chiron trace draws as an event plot', async () => {
  const dir = tempDir();
  const jsonl = path.join(dir, 'run.jsonl');
  const svg = path.join(dir, 'run.svg');
  const demo = await runChiron(['demo', 'overlap', '--blocks', '8', '--block-kib', '64', '--passes', '2',
                                '--out', path.join(dir, 'blocks.bin'), '--trace', jsonl]);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /speed-up from overlapping compute and I\/O: [\d.]+x/);

  const events = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const kinds = new Set(events.map((e) => e.event));
  for (const k of ['queued', 'act_begin', 'act_end']) assert.ok(kinds.has(k), `event ${k} recorded`);
  const writes = events.filter((e) => e.type === 'WriteBlock' && e.event === 'act_begin');
  assert.equal(writes.length, 16, 'two runs of 8 blocks each were written');
  assert.ok(writes.every((e) => e.device === 'disk' && e.lane.startsWith('disk/')));
  assert.ok(events.filter((e) => e.type === 'GenerateBlock' && e.event === 'act_begin')
                  .every((e) => e.lane.startsWith('cpu/')));

  const drawn = await runChiron(['trace', jsonl, '-o', svg]);
  assert.equal(drawn.code, 0, drawn.stderr);
  const picture = readFileSync(svg, 'utf8');
  assert.match(picture, /^<\?xml[^>]*>\s*<svg/);
  for (const label of ['cpu/0', 'disk/0', 'GenerateBlock', 'WriteBlock']) assert.ok(picture.includes(label), label);
  rmSync(dir, { recursive: true, force: true });
});

test('chiron trace rejects a file that is not an event log', async () => {
  const dir = tempDir();
  const bogus = path.join(dir, 'bogus.jsonl');
  (await import('node:fs')).writeFileSync(bogus, 'not json at all\n{"half":');
  const { code, stderr } = await runChiron(['trace', bogus, '-o', path.join(dir, 'x.svg')]);
  assert.notEqual(code, 0);
  assert.match(stderr, /chiron trace: /);
  rmSync(dir, { recursive: true, force: true });
});
