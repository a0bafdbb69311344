// `chiron chat token`: prints a JWT HS256 (src/chat/token.h) that any JWT library accepts —
// checked here with node:crypto only — and refuses to run without a secret or a user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { CHIRON_BIN } from '../lib/chiron.mjs';

const SECRET = 'cli-test-secret';

// Like runChiron, with an explicit environment: CHIRON_CHAT_SECRET is only set where a test sets it.
function chatToken(args, env = {}) {
  const base = { ...process.env };
  delete base.CHIRON_CHAT_SECRET;
  return new Promise((resolve) => {
    execFile(CHIRON_BIN, ['chat', 'token', ...args], { env: { ...base, ...env }, timeout: 10000 },
             (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

async function mint(args, env = {}) {
  const { code, stdout, stderr } = await chatToken(args, env);
  assert.equal(code, 0, stderr);
  const lines = stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, 'one token on one line');
  return lines[0];
}

test('chat token prints a three-part JWT whose payload carries the claims', async () => {
  const before = Math.floor(Date.now() / 1000);
  const token = await mint(['--secret', SECRET, '--user', 'alice', '--name', 'Alice <A>',
                            '--mod', 'lobby', '--mod', 'dev', '--read-only', '--ttl', '120']);
  const parts = token.split('.');
  assert.equal(parts.length, 3);
  for (const p of parts) assert.match(p, /^[A-Za-z0-9_-]+$/, 'base64url without padding');
  assert.deepEqual(decodePart(parts[0]), { alg: 'HS256', typ: 'JWT' });
  const claims = decodePart(parts[1]);
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.name, 'Alice <A>');
  assert.deepEqual(claims.mod, ['lobby', 'dev']);
  assert.equal(claims.post, false);
  assert.ok(claims.iat >= before && claims.iat <= Math.floor(Date.now() / 1000));
  assert.equal(claims.exp, claims.iat + 120);
});

test('chat token signature verifies with HMAC-SHA256 of the secret', async () => {
  const token = await mint(['--secret', SECRET, '--user', 'bob']);
  const [h, p, sig] = token.split('.');
  const expected = crypto.createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url');
  assert.equal(sig, expected);
  const other = crypto.createHmac('sha256', 'wrong').update(`${h}.${p}`).digest('base64url');
  assert.notEqual(sig, other);
  const claims = decodePart(p);
  assert.equal(claims.sub, 'bob');
  assert.equal(claims.exp - claims.iat, 3600, 'default ttl is an hour');
  assert.equal(claims.post, undefined, 'post defaults to true');
});

test('chat token reads the secret from CHIRON_CHAT_SECRET', async () => {
  const token = await mint(['--user', 'carol'], { CHIRON_CHAT_SECRET: SECRET });
  const [h, p, sig] = token.split('.');
  assert.equal(sig, crypto.createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'));
});

for (const [what, args, message] of [
  ['no secret', ['--user', 'alice'], /--secret/],
  ['no user', ['--secret', SECRET], /--user/],
  ['a zero ttl', ['--secret', SECRET, '--user', 'alice', '--ttl', '0'], /--ttl/],
  ['a user over 64 bytes', ['--secret', SECRET, '--user', 'a'.repeat(65)], /sub/],
]) {
  test(`chat token with ${what} exits 2 with a clear error`, async () => {
    const { code, stdout, stderr } = await chatToken(args);
    assert.equal(code, 2, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, message);
  });
}
