// chiron serve and the name server: the embedded one, an external one (--ns), signed
// registration (--ns-secret), and deregistration on shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, startNs, nsCommand, httpJson, waitFor } from '../lib/chiron.mjs';

const edgeList = async (ns) => {
  const r = await nsCommand(ns, 'LIST', 'edge');
  return Array.isArray(r) ? r : [];
};

test('serve embeds a name server and registers itself as an edge', async () => {
  const serve = await startServe();
  try {
    const { ns, http } = serve.listeners;
    assert.ok(ns, 'serve prints listening ns=');
    assert.ok(serve.listeners.ns_admin, 'serve prints listening ns_admin=');
    const list = await waitFor(async () => {
      const l = await edgeList(ns);
      return l.length === 1 && l[0].includes('health=up') ? l : null;
    }, { what: 'edge registered and up' });
    assert.match(list[0], new RegExp(`^${http.replace(/\./g, '\\.')} `));
    assert.equal(await nsCommand(ns, 'REQ', 'edge'), http);
    const svc = await httpJson(`http://${serve.listeners.ns_admin}/api/v1/services/edge`);
    assert.equal(svc.status, 200);
    assert.equal(svc.body.servers[0].id, http);
  } finally {
    await serve.stop();
  }
});

test('serve --ns registers with an external name server, heartbeats, and deregisters on SIGTERM', async () => {
  const ns = await startNs(['--lease-ttl', '1']);
  try {
    const serve = await startServe(['--ns', ns.listeners.ns, '--ns-lease-ttl', '1']);
    const { http } = serve.listeners;
    assert.equal(serve.listeners.ns, undefined, 'no embedded name server with --ns');
    await waitFor(async () => (await nsCommand(ns.listeners.ns, 'REQ', 'edge')) === http, { what: 'REQ edge → serve' });
    // Heartbeats (every TTL/3) keep a 1 s lease alive well past its first expiry.
    await new Promise((r) => setTimeout(r, 2500));
    const alive = await edgeList(ns.listeners.ns);
    assert.equal(alive.length, 1);
    assert.match(alive[0], /health=up/);
    await serve.stop('SIGTERM');
    await waitFor(async () => (await edgeList(ns.listeners.ns)).length === 0, { what: 'REM on shutdown' });
  } finally {
    await ns.stop();
  }
});

test('serve --ns-secret signs its registration; a wrong secret is refused', async () => {
  const ns = await startNs();
  try {
    const put = await httpJson(`${ns.url}/api/v1/services/edge`, { method: 'PUT', body: { secret: 'k3y' } });
    assert.equal(put.status, 200);
    assert.equal(put.body.has_secret, true);
    const bad = await startServe(['--ns', ns.listeners.ns, '--ns-secret', 'wrong']);
    await waitFor(() => /refused/.test(bad.stderr()), { what: 'refusal logged' });
    assert.equal((await edgeList(ns.listeners.ns)).length, 0);
    await bad.stop();
    const good = await startServe(['--ns', ns.listeners.ns, '--ns-secret', 'k3y']);
    await waitFor(async () => (await nsCommand(ns.listeners.ns, 'REQ', 'edge')) === good.listeners.http,
                  { what: 'signed edge registered' });
    await good.stop();
  } finally {
    await ns.stop();
  }
});
