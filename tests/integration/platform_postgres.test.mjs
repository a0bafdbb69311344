// `chiron serve --postgres URL` end to end on a throwaway PostgreSQL 15 the test starts itself
// (initdb into a temp dir as the `postgres` system user — the server refuses to run as root):
// accounts from `chiron user add --postgres`, a signup over HTTP, files pushed by the real
// `chiron push`, and the rows where they belong. Skips with a reason where PostgreSQL or the
// user switch is unavailable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../lib/chat.mjs';
import { httpJson, runChiron, startServe, tempDir, waitFor } from '../lib/chiron.mjs';

const PG_BIN = '/usr/lib/postgresql/15/bin';
function whySkip() {
  if (!fs.existsSync(`${PG_BIN}/initdb`)) return `no PostgreSQL 15 in ${PG_BIN}`;
  if (process.getuid?.() !== 0) return 'needs root to run PostgreSQL as the postgres user';
  try { execFileSync('id', ['postgres'], { stdio: 'ignore' }); } catch { return 'no postgres system user'; }
  return false;
}
const skip = whySkip();

test('serve --postgres: accounts, signup, pushed files and their versions live in PostgreSQL', { skip, timeout: 120000 }, async () => {
  const dir = tempDir('chiron-pg-');
  const pgdata = path.join(dir, 'pg');
  fs.mkdirSync(pgdata, { mode: 0o700 });
  execFileSync('chown', ['-R', 'postgres', dir]);
  const as = (cmd, args) => execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
  as(`${PG_BIN}/initdb`, ['-D', pgdata, '-A', 'trust', '-U', 'chiron', '-N', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const pg = spawn('runuser', ['-u', 'postgres', '--', `${PG_BIN}/postgres`, '-D', pgdata, '-k', pgdata, '-p', String(port),
                              '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: 'ignore' });
  let serve;
  try {
    await waitFor(() => {
      try { as(`${PG_BIN}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port)]); return true; } catch { return false; }
    }, { timeoutMs: 20000, what: 'postgres ready' });
    as('/usr/bin/psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'chiron', '-d', 'postgres', '-c', 'CREATE DATABASE chiron']);
    const url = `postgresql://chiron@127.0.0.1:${port}/chiron`;
    serve = await startServe(['--postgres', url]);
    const added = await runChiron(['user', 'add', 'carol', '--password', 'carol-password', '--data', serve.data, '--postgres', url]);
    assert.equal(added.code, 0, added.stderr);
    const token = /push_token=(\S+)/.exec(added.stdout)[1];
    const signup = await httpJson(`${serve.url}/api/v1/auth/signup`, { method: 'POST', body: { name: 'dave', password: 'dave-password' } });
    assert.equal(signup.status, 201, signup.text);

    const project = path.join(dir, 'project');
    fs.mkdirSync(path.join(project, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(project, 'a', 'b', 'c.txt'), 'v1\n');
    let r = await runChiron(['push', project, '--server', serve.url, '--token', token, '--once', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    fs.writeFileSync(path.join(project, 'a', 'b', 'c.txt'), 'v2\n');
    r = await runChiron(['push', project, '--server', serve.url, '--token', token, '--once', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const history = await httpJson(`${serve.url}/api/v1/channels/carol/history/a/b/c.txt`);
    assert.deepEqual(history.body.versions.map((v) => v.version), [2, 1]);
    const old = await httpJson(`${serve.url}/api/v1/channels/carol/files/a/b/c.txt?version=1`);
    assert.equal(old.text, 'v1\n');

    // The rows are in PostgreSQL (and no SQLite file was made).
    const q = (sql) => as('/usr/bin/psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'chiron', '-d', 'chiron', '-At', '-c', sql])
      .toString().trim();
    assert.equal(q('SELECT name FROM users ORDER BY name'), 'carol\ndave');
    assert.equal(q("SELECT count(*) FROM file_versions WHERE path = 'a/b/c.txt'"), '2');
    assert.equal(fs.existsSync(path.join(serve.data, 'platform.db')), false);
  } finally {
    if (serve) await serve.stop();
    // runuser does not forward signals: stop the server through its own tool.
    try { as(`${PG_BIN}/pg_ctl`, ['-D', pgdata, 'stop', '-m', 'fast', '-w']); } catch { pg.kill('SIGKILL'); }
    await new Promise((res) => (pg.exitCode !== null ? res() : pg.once('exit', res)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
