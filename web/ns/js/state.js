// The dashboard's copy of the name server's state, kept in step with the events WebSocket
// (docs/protocols.md "Events"): a snapshot replaces everything, then each delta must carry
// exactly version + 1. Older versions are duplicates and are ignored; a jump means deltas were
// lost, and the caller reconnects to get a fresh snapshot. Not tied to the DOM (testable alone).

export class NsState {
  constructor(now = () => performance.now()) {
    this.now = now;
    this.version = null;
    this.services = new Map();  // name → {name, algorithm, has_secret, panic, picks, servers: Map id → server}
  }

  applySnapshot({ version, services }) {
    this.version = version;
    this.services = new Map();
    for (const s of services ?? []) this.services.set(s.name, this.#service(s));
  }

  // Returns 'applied', 'stale' (already seen) or 'gap' (state untouched; resync needed).
  applyDelta(d) {
    if (this.version === null) return 'gap';
    if (d.version <= this.version) return 'stale';
    if (d.version !== this.version + 1) return 'gap';
    this.version = d.version;
    switch (d.op) {
      case 'upsert': this.#ensure(d.service).servers.set(d.server.id, this.#stamp(d.server)); break;
      case 'remove': this.services.get(d.service)?.servers.delete(d.id); break;
      case 'service': {
        const s = this.#ensure(d.service);
        if (d.algorithm !== undefined) s.algorithm = d.algorithm;
        if (d.has_secret !== undefined) s.has_secret = d.has_secret;
        if (d.panic !== undefined) s.panic = d.panic;
        break;
      }
      case 'remove_service': this.services.delete(d.service); break;
      default: break;  // unknown ops from a newer server are skipped, the version still counts
    }
    return 'applied';
  }

  // A server object from a REST reply, used only while the event stream is down.
  upsertServer(service, server) { this.#ensure(service).servers.set(server.id, this.#stamp(server)); }

  // Derived figures the API also reports; computed here because deltas carry single servers.
  static summary(s) {
    let eligible = 0, picks = 0;
    for (const v of s.servers.values()) { if (v.eligible) eligible++; picks += v.picks ?? 0; }
    return { eligible, total: s.servers.size, picks };
  }

  #ensure(name) {
    let s = this.services.get(name);
    if (!s) {
      s = { name, algorithm: '', has_secret: false, panic: false, servers: new Map() };
      this.services.set(name, s);
    }
    return s;
  }

  #service(s) {
    const out = { name: s.name, algorithm: s.algorithm, has_secret: !!s.has_secret, panic: !!s.panic, servers: new Map() };
    for (const v of s.servers ?? []) out.servers.set(v.id, this.#stamp(v));
    return out;
  }

  // lease_expires_in_ms is relative to when the object was produced; remember when we got it.
  #stamp(v) { return { ...v, receivedAt: this.now() }; }
}

export function leaseLeftMs(server, now = performance.now()) {
  if (server.lease_expires_in_ms == null) return null;
  return Math.max(0, server.lease_expires_in_ms - (now - server.receivedAt));
}
