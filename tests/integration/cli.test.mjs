// The chiron binary's command line: help for every subcommand, version, bad usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChiron } from '../lib/chiron.mjs';

test('--help lists the subcommands', async () => {
  const { code, stdout } = await runChiron(['--help']);
  assert.equal(code, 0);
  for (const sub of ['serve', 'trace', 'ns']) assert.match(stdout, new RegExp(`\\b${sub}\\b`));
});

for (const sub of ['serve', 'trace', 'ns']) {
  test(`${sub} --help documents its flags`, async () => {
    const { code, stdout } = await runChiron([sub, '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Usage|Options/i);
  });
}

test('serve --help shows the common flags of the design', async () => {
  const { stdout } = await runChiron(['serve', '--help']);
  for (const flag of ['--http', '--rtmp', '--data', '--redis', '--postgres', '--ns', '--log-level', '--config'])
    assert.ok(stdout.includes(flag), `missing ${flag}`);
});

test('--version prints the version', async () => {
  const { code, stdout } = await runChiron(['--version']);
  assert.equal(code, 0);
  assert.match(stdout, /\d+\.\d+\.\d+/);
});

test('no subcommand is a usage error', async () => {
  const { code } = await runChiron([]);
  assert.notEqual(code, 0);
});
