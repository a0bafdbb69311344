'use strict';
// flx-runtime.js — runs a program emitted by `chiron fluxc -o DIR` on Node worker_threads
// (docs/fluxc.md "Running compiled apps"; research §7). Embedded into the chiron binary and
// copied next to main.js; the same file is the worker script.
//
// Placement (placement.json): the group holding `main` runs on the main thread; every other
// group is pinned to one worker; the "pool" group (replicable fluxions: untagged, read-only
// ctx) runs on FLX_WORKERS workers (default: cores), each message to the least busy one.
// Each group has ONE ctx object shared by its fluxions. Worker ctxs are initialised from the
// values main computed during its synchronous top-level run (snapshot right after it, before
// any message reaches a worker).
//
// Messages: rt.send(dest, args, vars). Same thread → delivered by reference in a microtask
// (FIFO). Other thread → structured clone; workers talk to each other through the main thread.
// Values that cannot be cloned (functions, req, res, sockets, streams, class instances) travel
// as handles {__flx:'h', id, owner, group, kind, proj?} held in the owner thread's table. A
// handle coming back to its owner resolves to the original object; elsewhere it is a Proxy
// whose every use throws an Error with code FLX_ISOLATION naming the value, its owner group,
// the fluxion and the thread. An http request also carries a cloneable projection (method,
// url, path, headers, query, params, body …) that the Proxy serves read-only. Buffers are
// re-wrapped from Uint8Array, fs.Stats get their prototype back, errors their own properties.
//
// Handle lifetime: a handle lives as long as the request that created it. When a message is
// encoded, its anchor is the http.ServerResponse (or socket/stream) among its values (a req
// anchors on req.res or its socket); every handle created for that message is freed when the
// anchor emits 'close' (a response emits it once finished or aborted). On a worker the anchor
// is the Proxy of main's response; main announces its close ({t:'release'}) to the workers,
// which free what they made under it. A stream or socket is its own anchor; a request never
// is (it closes once its body is read). Handles captured in the ctx snapshot are permanent.
// Any other handle — no anchor, or an anchor already closed/released (a continuation carrying
// res after the answer) — is kept in a bounded FIFO (FLX_MAX_HANDLES, default 10000), oldest
// freed first.
// Using a freed handle at its owner throws FLX_EXPIRED. Reference counting per message was
// rejected: a post continuation keeps its handles after its fluxion's run has returned, so
// no receiver can know when the message chain ends; the response can.
//
// FLX_STATS=1 prints the handle tables' sizes on SIGINT/SIGTERM (tests check they are empty).
//
// Trace: FLX_TRACE=<file> → one JSON line per run {"fluxion","thread","t0","t1"} (µs since
// the main thread's performance.timeOrigin), written by the main thread at least every second
// and on exit/SIGINT/SIGTERM. Errors thrown by a fluxion are reported on the main thread's
// stderr with the fluxion id, thread and original stack, and the response the run carried (if
// its headers are not out) is answered by its owner thread: req.next(err) under express (its
// error chain: 500), else a plain 500. A worker that exits has the requests of its in-flight
// messages answered 500 and is restarted with back-off; too many restarts → its group is dead
// (its messages answered 500). See docs/fluxc.md "Running compiled apps".

const wt = require('worker_threads');
const path = require('path');
const fs = require('fs');
const os = require('os');
const http = require('http');
const net = require('net');
const { performance } = require('perf_hooks');

const T = {
  dir: '', placement: null, group: '', kind: 'main', origin: 0, traceOn: false,
  ctx: Object.create(null), modules: new Map(), current: null, ready: false, inbox: [],
  handles: new Map(), byObj: new WeakMap(), nextHandle: 1, fifo: [],
  maxHandles: Number(process.env.FLX_MAX_HANDLES) || 10000,
  // main thread only
  workers: new Map(), pool: [], traceBuf: [], traceFile: '', errors: 0, rr: 0,
};
const proxyInfo = new WeakMap();
const threadId = wt.threadId;

function nowUs() {
  return Math.round((performance.timeOrigin + performance.now() - T.origin) * 1000);
}

function place(id) {
  const f = T.placement.fluxions[id];
  if (!f) throw new Error(`flx: unknown fluxion '${id}' (not in placement.json)`);
  return f;
}

// ---------------------------------------------------------------- errors

function describe(info) {
  return `${info.label} (a ${info.desc.kind} owned by group '${info.desc.group}' on thread ${info.desc.owner})`;
}

function isolationError(info, what) {
  const e = new Error(
    `FLX_ISOLATION: fluxion '${T.current || '(none)'}' on thread ${threadId} (group '${T.group}') ` +
    `${what} ${describe(info)}; only fluxions of group '${info.desc.group}' may use it — ` +
    `tag this fluxion into that group or send the value there`);
  e.code = 'FLX_ISOLATION';
  return e;
}

// The responses a message's values name: local ServerResponses (a req gives its req.res) and,
// for values owned by another thread, the keys `<owner>:<handle id>` of http requests and
// responses (the owner resolves them). Used to answer 500 when a run fails.
function responsesOf(values) {
  const local = [], keys = [];
  const seen = new Set();
  const visit = (v, depth) => {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > 2) return;
    seen.add(v);
    const pi = proxyInfo.get(v);
    if (pi) {
      if (pi.desc.kind === 'http response' || pi.desc.kind === 'http request') keys.push(`${pi.desc.owner}:${pi.desc.id}`);
      return;
    }
    if (v instanceof http.ServerResponse) { local.push(v); return; }
    if (v instanceof http.IncomingMessage) { if (v.res instanceof http.ServerResponse) local.push(v.res); return; }
    if (typeof v === 'object' && isPlainProto(Object.getPrototypeOf(v))) {
      for (const k of Object.keys(v)) {
        let x;
        try { x = v[k]; } catch (_) { continue; }  // a throwing getter hides no response
        visit(x, depth + 1);
      }
    }
  };
  for (const v of values) visit(v, 0);
  return { local: [...new Set(local)], keys: [...new Set(keys)] };
}

// Answers a response whose request failed: through express's error chain when the request
// came through express (req.next(err): the app's error middleware, else finalhandler's 500, as
// in the original app), else a plain 500. A response already started is cut (as finalhandler
// does); one already ended is left alone.
function failResponse(res, err) {
  if (!(res instanceof http.ServerResponse) || res.writableEnded || res.destroyed || res.__flxFailed) return;
  if (res.headersSent) { res.destroy(); return; }
  Object.defineProperty(res, '__flxFailed', { value: true, configurable: true });
  const req = res.req;
  if (req && typeof req.next === 'function') {
    // (finalhandler may wait for the request body before it writes.)
    try { req.next(err); return; } catch (_) { /* fall through to the plain answer */ }
    if (res.headersSent || res.writableEnded) return;
  }
  plain500(res);
}

function plain500(res) {
  try {
    res.statusCode = 500;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('Internal Server Error\n');
  } catch (_) { res.destroy(); }
}

// Main thread: a key `0:<id>` names a request or response in main's handle table.
function failKeys(keys, err) {
  for (const key of keys || []) {
    const [owner, id] = String(key).split(':').map(Number);
    if (owner !== threadId) continue;
    const e = T.handles.get(id);
    if (!e) continue;
    const res = e.obj instanceof http.IncomingMessage ? e.obj.res : e.obj;
    failResponse(res, err);
  }
}

function errorFromRecord(rec) {
  const e = new Error(rec.message || `fluxion '${rec.fluxion}' failed`);
  e.stack = rec.stack;
  return e;
}

// err: what the run threw; values: the run's arguments and vars (the responses to fail).
function report(err, fluxion, values) {
  let code = '';
  let stack;
  try {
    code = err && (typeof err.code === 'string' || typeof err.code === 'number') ? err.code : '';
    stack = (err && typeof err.stack === 'string' && err.stack) || String(err);
  } catch (_) { stack = '(an error whose text cannot be read)'; }
  let message = '';
  try { message = err && typeof err.message === 'string' ? err.message : String(err); } catch (_) { /* keep '' */ }
  const rec = { t: 'error', fluxion: fluxion || '(outside a fluxion)', thread: threadId, group: T.group,
    code, stack, message, keys: [] };
  let rs = { local: [], keys: [] };
  try { if (values) rs = responsesOf(values); } catch (_) { /* report anyway */ }
  rec.keys = rs.keys;
  for (const res of rs.local) { try { failResponse(res, err); } catch (_) { /* reported below */ } }
  if (wt.isMainThread) { printError(rec); failKeys(rec.keys, err); return; }
  try {
    wt.parentPort.postMessage(rec);
  } catch (e) {
    wt.parentPort.postMessage({ t: 'error', fluxion: String(rec.fluxion), thread: threadId, group: T.group,
      code: '', stack: String(rec.stack), message: String(message), keys: rec.keys.map(String) });
  }
}

function printError(rec) {
  T.errors++;
  process.stderr.write(`flx: error in fluxion '${rec.fluxion}' (thread ${rec.thread}, group '${rec.group}')` +
    `${rec.code !== '' && rec.code !== undefined ? ' [' + rec.code + ']' : ''}: ${rec.stack}\n`);
}

// ---------------------------------------------------------------- handles

function isPlainProto(p) { return p === Object.prototype || p === null; }

function projection(req) {
  const p = Object.create(null);
  for (const k of ['method', 'url', 'originalUrl', 'path', 'baseUrl', 'headers', 'query', 'params',
    'body', 'httpVersion', 'hostname', 'ip', 'protocol', 'secure']) {
    try {
      const v = req[k];
      if (v !== undefined && typeof v !== 'function') p[k] = v;
    } catch (_) { /* an express getter may throw without its app settings */ }
  }
  return p;
}

function isEmitter(v) { return typeof v.on === 'function' && typeof v.emit === 'function'; }

// Own enumerable data of a class instance (fs.Stats, a URL-like record …): primitives and
// Dates only, read-only on the other side; its methods stay with the owner.
function dataProjection(obj) {
  const p = Object.create(null);
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol') || v instanceof Date) putKey(p, k, v);
  }
  // Escaped exactly like a plain object: app data cannot forge a marker (`__flx: 'h'` …).
  return Object.prototype.hasOwnProperty.call(p, '__flx') ? { __flx: 'obj', v: p } : p;
}

function anchorOf(values) {
  for (const v of values) {
    if (v instanceof http.ServerResponse) return v;
    if (v instanceof http.IncomingMessage && v.res instanceof http.ServerResponse) return v.res;
  }
  for (const v of values) if (v instanceof net.Socket) return v;
  // On another thread the response is a Proxy of the owner's handle: its key names it.
  for (const v of values) {
    const pi = v && (typeof v === 'object' || typeof v === 'function') ? proxyInfo.get(v) : null;
    if (pi && pi.desc.kind === 'http response') return { remote: `${pi.desc.owner}:${pi.desc.id}` };
  }
  return null;
}

// Handles created here under a response owned by another thread, by that response's key;
// freed when its owner announces the response closed ({t:'release', key}).
const remoteAnchors = new Map();

const released = new Set();  // recently released keys (bounded): a late handle is not kept

function releaseRemote(key) {
  released.add(key);
  if (released.size > T.maxHandles) released.delete(released.values().next().value);
  const ids = remoteAnchors.get(key);
  if (!ids) return;
  remoteAnchors.delete(key);
  for (const h of ids) freeHandle(h);
}

function onAnchorClosed(anchor, ids) {
  const own = T.byObj.get(anchor);
  for (const h of ids) freeHandle(h);
  ids.length = 0;
  // Other threads may have made handles while serving this response: tell them it is over.
  if (own !== undefined && wt.isMainThread) {
    const key = `${threadId}:${own}`;
    for (const w of [...T.workers.values(), ...T.pool]) w.worker.postMessage({ t: 'release', key });
  }
}

function isStream(v) {
  return typeof v.once === 'function' && (typeof v.pipe === 'function' || v instanceof net.Socket);
}

function freeHandle(id) {
  const e = T.handles.get(id);
  if (!e) return;
  T.handles.delete(id);
  if (typeof e.obj !== 'symbol') T.byObj.delete(e.obj);
}

function makeHandle(obj, st) {
  let id = T.byObj.get(obj);
  let entry = id && T.handles.get(id);
  if (!entry) {
    id = T.nextHandle++;
    entry = { obj, kind: kindOf(obj) };
    T.handles.set(id, entry);
    if (typeof obj !== 'symbol') T.byObj.set(obj, id);
    let anchor = st.permanent ? null : (st.anchor || (isStream(obj) ? obj : null));
    // Never anchor on a request: it emits 'close' once its body is read, long before the
    // answer; its response is the anchor (or, without one, the FIFO).
    if (anchor instanceof http.IncomingMessage) anchor = anchor.res instanceof http.ServerResponse ? anchor.res : null;
    // An anchor that already closed will not emit 'close' again: the FIFO frees the handle.
    if (anchor && !anchor.remote && (anchor.closed || anchor.destroyed)) anchor = null;
    if (st.permanent) {
      entry.permanent = true;
    } else if (anchor && anchor.remote && !released.has(anchor.remote)) {
      if (!remoteAnchors.has(anchor.remote)) remoteAnchors.set(anchor.remote, []);
      remoteAnchors.get(anchor.remote).push(id);
    } else if (anchor && !anchor.remote) {
      let ids = anchor.__flxHandles;
      if (!ids) {
        ids = [];
        Object.defineProperty(anchor, '__flxHandles', { value: ids, enumerable: false, configurable: true });
        anchor.once('close', () => onAnchorClosed(anchor, ids));
      }
      ids.push(id);
    } else {
      T.fifo.push(id);
      while (T.fifo.length > T.maxHandles) {
        const old = T.fifo.shift();
        if (T.handles.get(old) && !T.handles.get(old).permanent) freeHandle(old);
      }
    }
  }
  const d = { __flx: 'h', id, owner: threadId, group: T.group, kind: entry.kind };
  if (obj instanceof http.IncomingMessage) d.proj = encode(projection(obj), st);
  else if (typeof obj === 'object' && !isEmitter(obj)) d.proj = dataProjection(obj);
  return d;
}

function kindOf(v) {
  if (typeof v === 'function') return 'function';
  if (typeof v === 'symbol') return 'symbol';
  if (v instanceof http.IncomingMessage) return 'http request';
  if (v instanceof http.ServerResponse) return 'http response';
  const c = v && v.constructor && v.constructor.name;
  return c ? `${c} object` : 'object';
}

// ---------------------------------------------------------------- encode / decode

const kErrors = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];
const kCloneable = [Date, RegExp];

// Sets key k of a container built by encode/decode: own data property even for '__proto__'
// (an assignment would set the prototype instead).
function putKey(o, k, x) {
  if (o instanceof Map) o.set(k, x);
  else if (k === '__proto__') Object.defineProperty(o, k, { value: x, writable: true, enumerable: true, configurable: true });
  else o[k] = x;
}

// Iterative (explicit stack): a deeply nested value (a JSON body nested 40,000 levels) must not
// overflow the call stack. Containers are created first and filled as their children come up.
// Encoded plain objects have a null prototype, so a key '__proto__' stays an own property.
function encode(root, st) {
  const box = Object.create(null);
  const work = [[box, 'v', root]];
  while (work.length > 0) {
    const [into, key, v] = work.pop();
    putKey(into, key, encodeOne(v, st, work));
  }
  return box.v;
}

function encodeOne(v, st, work) {
  if (v === null || v === undefined) return v;
  const t = typeof v;
  if (t === 'symbol') return makeHandle(v, st);
  if (t !== 'object' && t !== 'function') return v;
  const pi = proxyInfo.get(v);
  if (pi) return pi.desc;
  if (st.seen.has(v)) return st.seen.get(v);
  if (t === 'function') return makeHandle(v, st);
  if (Buffer.isBuffer(v)) return { __flx: 'buf', data: Uint8Array.prototype.slice.call(v) };
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    st.seen.set(v, out);
    for (let i = v.length - 1; i >= 0; i--) work.push([out, i, v[i]]);
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (isPlainProto(proto)) {
    const out = Object.create(null);
    const keys = Object.keys(v);
    // A user key '__flx' would be read as a marker on arrival: the object is escaped.
    const ret = keys.includes('__flx') ? { __flx: 'obj', v: out } : out;
    st.seen.set(v, ret);
    for (let i = keys.length - 1; i >= 0; i--) work.push([out, keys[i], v[keys[i]]]);
    return ret;
  }
  if (v instanceof Error && kErrors.some((C) => proto === C.prototype)) {
    // Structured clone drops an error's own properties (code, errno, path, syscall …).
    const out = { __flx: 'err', name: proto.constructor.name, message: v.message, stack: v.stack, props: Object.create(null) };
    st.seen.set(v, out);
    for (const k of Object.keys(v)) work.push([out.props, k, v[k]]);
    return out;
  }
  if (kCloneable.some((C) => proto === C.prototype)) return v;
  if (proto === fs.Stats.prototype) {
    // Plain data behind a prototype whose methods only read it: re-wrapped on arrival.
    const out = { __flx: 'stats', props: Object.create(null) };
    for (const k of Object.keys(v)) work.push([out.props, k, v[k]]);
    return out;
  }
  if (proto === Map.prototype) {
    // Encoded as pairs [[k, x], …] in a Map wrapper so keys and values go through the stack.
    const pairs = new Array(v.size);
    const out = { __flx: 'map', pairs };
    st.seen.set(v, out);
    let i = 0;
    for (const [k, x] of v) {
      const pair = new Array(2);
      pairs[i++] = pair;
      work.push([pair, 1, x]);
      work.push([pair, 0, k]);
    }
    return out;
  }
  if (proto === Set.prototype) {
    const items = new Array(v.size);
    const out = { __flx: 'set', items };
    st.seen.set(v, out);
    const list = [...v];
    for (let i = list.length - 1; i >= 0; i--) work.push([items, i, list[i]]);
    return out;
  }
  return makeHandle(v, st);
}

// Structured clone recurses (V8's serializer): a value nested too deep (a JSON body nested
// 40,000 levels) cannot be posted as a tree. post() then sends the encoded message flat: a
// table of shallow nodes whose container children are {i: <node index>} (in the flat form
// every plain-object child is such a reference: containers all became nodes).
function isContainer(x) {
  return x !== null && typeof x === 'object' && (Array.isArray(x) || isPlainProto(Object.getPrototypeOf(x)));
}

function flatten(root) {
  const nodes = [];
  const ids = new Map();
  const ref = (x) => {
    if (!isContainer(x)) return x;
    if (!ids.has(x)) { ids.set(x, nodes.length); nodes.push(x); }
    return { i: ids.get(x) };
  };
  ref(root);
  for (let n = 0; n < nodes.length; n++) {
    const x = nodes[n];
    let copy;
    if (Array.isArray(x)) {
      copy = new Array(x.length);
      for (let i = 0; i < x.length; i++) copy[i] = ref(x[i]);
    } else {
      copy = Object.create(null);
      for (const k of Object.keys(x)) putKey(copy, k, ref(x[k]));
    }
    nodes[n] = copy;
  }
  return nodes;
}

function unflatten(nodes) {
  const at = (x) => (isContainer(x) && !Array.isArray(x) ? nodes[x.i] : x);
  for (const x of nodes) {
    if (Array.isArray(x)) for (let i = 0; i < x.length; i++) x[i] = at(x[i]);
    else for (const k of Object.keys(x)) putKey(x, k, at(x[k]));
  }
  return nodes[0];
}

function post(port, m) {
  try {
    port.postMessage(m);
  } catch (e) {
    if (!(e instanceof RangeError) || m.flat) throw e;
    port.postMessage({ t: 'msg', dest: m.dest, from: m.from, flat: flatten({ args: m.args, vars: m.vars }) });
  }
}

function encodeMessage(args, vars, permanent) {
  const values = [...args, ...Object.values(vars || {})];
  const st = { seen: new Map(), anchor: anchorOf(values), permanent };
  const ev = Object.create(null);
  for (const k of Object.keys(vars || {})) putKey(ev, k, encode(vars[k], st));
  return { args: args.map((a) => encode(a, st)), vars: ev };
}

function proxyFor(d, label) {
  const info = { desc: d, label };
  const target = d.kind === 'function' ? function () {} : (d.proj ? decode(d.proj, label) : {});
  const deny = (what) => { throw isolationError(info, what); };
  const p = new Proxy(target, {
    get(tg, k) {
      if (k === 'then' || typeof k === 'symbol') return undefined;
      if (d.proj && Object.prototype.hasOwnProperty.call(tg, k)) return tg[k];
      return deny(`read property '${String(k)}' of`);
    },
    set(tg, k) { return deny(`wrote property '${String(k)}' of`); },
    has(tg, k) { return d.proj && Object.prototype.hasOwnProperty.call(tg, k) ? true : deny(`tested property '${String(k)}' of`); },
    deleteProperty(tg, k) { return deny(`deleted property '${String(k)}' of`); },
    defineProperty(tg, k) { return deny(`defined property '${String(k)}' of`); },
    apply() { return deny('called'); },
    construct() { return deny('constructed'); },
    setPrototypeOf() { return deny('changed the prototype of'); },
  });
  proxyInfo.set(p, info);
  return p;
}

function expiredError(d, label) {
  const e = new Error(`FLX_EXPIRED: ${label} (a ${d.kind} of group '${d.group}') came back to thread ` +
    `${threadId} after its request ended; handle ${d.id} was freed`);
  e.code = 'FLX_EXPIRED';
  return e;
}

function resolveHandle(d, label) {
  if (d.owner === threadId) {
    const e = T.handles.get(d.id);
    if (e) return e.obj;
    const err = expiredError(d, label);
    const target = d.kind === 'function' ? function () {} : {};
    return new Proxy(target, { get(_, k) { if (k === 'then' || typeof k === 'symbol') return undefined; throw err; },
      set() { throw err; }, apply() { throw err; } });
  }
  return proxyFor(d, label);
}

// In place where it can (the value is a fresh structured clone owned by this thread);
// iterative like encode. memo: raw value → decoded value (cycles and shared references).
function decode(root, label) {
  const memo = new Map();
  const box = Object.create(null);
  const work = [[box, 'v', root, label]];
  while (work.length > 0) {
    const task = work.pop();
    if (typeof task === 'function') { task(); continue; }
    const [into, key, v, lab] = task;
    putKey(into, key, decodeOne(v, lab, work, memo));
  }
  return box.v;
}

function decodeOne(v, label, work, memo) {
  if (v === null || typeof v !== 'object') return v;
  if (memo.has(v)) return memo.get(v);
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v;
  if (Array.isArray(v)) {
    memo.set(v, v);
    for (let i = v.length - 1; i >= 0; i--) work.push([v, i, v[i], `${label}[${i}]`]);
    return v;
  }
  if (!isPlainProto(Object.getPrototypeOf(v))) return v;
  const own = (k) => Object.prototype.hasOwnProperty.call(v, k);
  const tag = own('__flx') ? v.__flx : undefined;
  if (tag === 'buf') return Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  if (tag === 'h') return resolveHandle(v, label);
  if (tag === 'stats') {
    const s = Object.create(fs.Stats.prototype);
    for (const k of Object.keys(v.props)) putKey(s, k, v.props[k]);
    return s;
  }
  if (tag === 'err') {
    const C = kErrors.find((E) => E.name === v.name) || Error;
    const e = new C(v.message);
    e.stack = v.stack;
    memo.set(v, e);
    for (const k of Object.keys(v.props)) work.push([e, k, v.props[k], `${label}.${k}`]);
    return e;
  }
  if (tag === 'map') {
    const m = new Map();
    memo.set(v, m);
    const pairs = v.pairs;
    work.push(() => { for (const p of pairs) m.set(p[0], p[1]); });
    for (const p of pairs) { work.push([p, 1, p[1], `${label}.get(…)`]); work.push([p, 0, p[0], label]); }
    return m;
  }
  if (tag === 'set') {
    const s = new Set();
    memo.set(v, s);
    const items = v.items;
    work.push(() => { for (const x of items) s.add(x); });
    for (let i = items.length - 1; i >= 0; i--) work.push([items, i, items[i], label]);
    return s;
  }
  if (tag === 'obj') { memo.set(v, v.v); v = v.v; } else if (tag !== undefined) {
    throw new Error(`flx: ${label}: unknown value marker '${String(tag)}'`);
  }
  memo.set(v, v);
  for (const k of Object.keys(v)) work.push([v, k, v[k], `${label}.${k}`]);
  return v;
}

// ---------------------------------------------------------------- running fluxions

function loadModule(id) {
  if (!T.modules.has(id)) T.modules.set(id, require(path.join(T.dir, 'fluxions', `${id}.js`)));
  return T.modules.get(id);
}

function runFluxion(dest, args, vars) {
  const mod = loadModule(dest);
  const t0 = T.traceOn ? nowUs() : 0;  // per message: the clock only when tracing
  const fail = (e) => report(e, dest, [...args, ...Object.values(vars || {})]);
  T.current = dest;
  try {
    const r = mod.run({ args, vars }, T.ctx, rt);
    if (r && typeof r.then === 'function') r.then(null, fail);
  } catch (e) {
    fail(e);
  } finally {
    T.current = null;
    if (T.traceOn) traceRecord({ fluxion: dest, thread: threadId, t0, t1: nowUs() });
  }
}

function deliverRemote(m) {
  if (m.flat) {
    const tree = unflatten(m.flat);
    m = { t: 'msg', dest: m.dest, from: m.from, args: tree.args, vars: tree.vars };
  }
  T.current = m.dest;
  let mod;
  try { mod = loadModule(m.dest); } finally { T.current = null; }
  const params = mod.params || [];
  // The responses it carries, read before decoding: a message that fails to decode is
  // reported and its request answered 500 (never left unanswered).
  const keys = messageKeys(m, true);
  let args, vars;
  try {
    args = m.args.map((a, i) => decode(a, `'${params[i] || `argument ${i}`}'`));
    vars = Object.create(null);
    for (const k of Object.keys(m.vars)) putKey(vars, k, decode(m.vars[k], `'${k}'`));
  } catch (e) {
    const err = new Error(`FLX_DECODE: the message from '${m.from || '(outside a fluxion)'}' to '${m.dest}' cannot be decoded: ${e && e.message}`);
    err.code = 'FLX_DECODE';
    const rec = { t: 'error', fluxion: m.dest, thread: threadId, group: T.group, code: err.code, stack: err.stack, message: err.message, keys };
    if (wt.isMainThread) { printError(rec); failKeys(keys, err); } else wt.parentPort.postMessage(rec);
    return;
  }
  runFluxion(m.dest, args, vars);
}

function sendError(e, dest, from) {
  let why;
  try { why = e && e.message ? e.message : String(e); } catch (_) { why = '(unreadable error)'; }
  const err = new Error(`FLX_SEND: the message from '${from || '(outside a fluxion)'}' to '${dest}' cannot be sent: ${why}`);
  err.code = 'FLX_SEND';
  return err;
}

function sendFailed(e, dest, from, values) {
  try { report(sendError(e, dest, from), from || dest, values); } catch (_) { /* nothing more can be said */ }
}

function isLocal(dest) {
  const p = place(dest);
  return p.group === T.group;
}

const rt = {
  send(dest, args, vars) {
    args = Array.from(args || []);
    vars = vars || {};
    if (isLocal(dest)) {
      queueMicrotask(() => runFluxion(dest, args, vars));
      return;
    }
    // A message that cannot be packed or posted (a value nested too deep for structured
    // clone …) is reported with the sender and destination and its response answered 500;
    // it never throws into the app's code.
    try {
      const enc = encodeMessage(args, vars, false);
      const m = { t: 'msg', dest, args: enc.args, vars: enc.vars, from: T.current || '' };
      if (wt.isMainThread) routeFromMain(m);
      else post(wt.parentPort, m);
    } catch (e) {
      let values = args;
      try { values = [...args, ...Object.values(vars)]; } catch (_) { /* the args still name res */ }
      sendFailed(e, dest, T.current, values);
    }
  },
  get ctx() { return T.ctx; },
  get thread() { return threadId; },
};

// ---------------------------------------------------------------- main thread

function traceRecord(rec) {
  if (wt.isMainThread) T.traceBuf.push(JSON.stringify(rec));
  else T.traceBuf.push(rec);
}

function flushTrace() {
  if (!T.traceFile || T.traceBuf.length === 0) return;
  const text = T.traceBuf.join('\n') + '\n';
  T.traceBuf = [];
  try { fs.appendFileSync(T.traceFile, text); } catch (e) { process.stderr.write(`flx: trace: ${e.message}\n`); }
}

function groupOf(name) { return T.placement.groups.find((g) => g.name === name); }

// Keys `0:<id>` of main's requests and responses named by an encoded message (its handles).
function messageKeys(m, anyOwner) {
  const keys = [];
  const visit = (v, depth) => {
    if (v === null || typeof v !== 'object' || depth > 3) return;
    if (Object.prototype.hasOwnProperty.call(v, '__flx') && v.__flx === 'h') {
      if ((anyOwner || v.owner === threadId) && (v.kind === 'http response' || v.kind === 'http request')) keys.push(`${v.owner}:${v.id}`);
      return;
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Map || v instanceof Set) return;
    for (const k of Object.keys(v)) visit(v[k], depth + 1);
  };
  if (m.flat) {
    // Flat form: every node is shallow; the inner object of an escaped one ({__flx:'obj', v})
    // is app data and is skipped.
    const own = (x, k) => Object.prototype.hasOwnProperty.call(x, k);
    const app = new Set();
    for (const x of m.flat) if (!Array.isArray(x) && own(x, '__flx') && x.__flx === 'obj' && x.v) app.add(x.v.i);
    m.flat.forEach((x, n) => {
      if (!app.has(n) && !Array.isArray(x) && own(x, '__flx') && x.__flx === 'h') visit(x, 0);
    });
    return keys;
  }
  visit(m.args, 0);
  visit(m.vars, 0);
  return keys;
}

function lostError(text) {
  const e = new Error(text);
  e.code = 'FLX_WORKER_EXIT';
  return e;
}

function routeFromMain(m) {
  const p = place(m.dest);
  if (p.group === T.group) { deliverRemote(m); return; }
  let w;
  if (p.thread === 'pool') {
    const live = T.pool.filter((x) => !x.dead);
    if (live.length > 0) {
      let best = 0;
      for (let i = 1; i < live.length; i++) {
        const a = live[(T.rr + i) % live.length], b = live[(T.rr + best) % live.length];
        if (a.inflight < b.inflight) best = i;
      }
      w = live[(T.rr + best) % live.length];
      T.rr = (T.rr + 1) % live.length;
    } else {
      w = T.pool[0];
    }
  } else {
    w = T.workers.get(p.group);
  }
  if (!w) throw new Error(`flx: no thread for group '${p.group}' of fluxion '${m.dest}'`);
  if (w.dead) {
    // A dead group answers its messages' requests with 500 (said once, when it died).
    failKeys(messageKeys(m), lostError(`flx: group '${p.group}' is dead; message to '${m.dest}' not delivered`));
    return;
  }
  if (w.ready) post(w.worker, m);  // may throw (not cloneable): nothing is counted then
  else w.queue.push(m);
  T.idleFlushed = false;
  w.inflight++;
  w.flight.push({ dest: m.dest, keys: messageKeys(m) });
  if (w.inflight === 1 && w.worker) w.worker.ref();
}

function onWorkerMessage(w, m) {
  if (m.t === 'msg') {
    try {
      routeFromMain(m);
    } catch (e) {
      const err = sendError(e, m.dest, m.from);
      printError({ fluxion: m.from || m.dest, thread: w.worker.threadId, group: w.group, code: err.code, stack: err.stack });
      failKeys(messageKeys(m), err);
    }
  } else if (m.t === 'done') {
    w.inflight = Math.max(0, w.inflight - 1);
    w.flight.shift();
    if (w.inflight === 0) w.worker.unref();
    if (m.trace) for (const r of m.trace) T.traceBuf.push(JSON.stringify(r));
  } else if (m.t === 'error') {
    printError(m);
    failKeys(m.keys, errorFromRecord(m));
  } else if (m.t === 'trace') {
    for (const r of m.recs) T.traceBuf.push(JSON.stringify(r));
    if (m.final && w.onFlushed) w.onFlushed(m);
  }
}

// Worker failure policy: a worker that exits is restarted from main's snapshot values, at once
// the first time, then after 100, 200, 400 … ms (capped at 5 s); a slot that needs more than
// RESTART_MAX restarts within RESTART_WINDOW_MS is dead (a pool stays alive while any of its
// workers lives). The messages in flight on a worker that exits are not replayed (a run may
// have had effects already): the requests they carry are answered 500.
const RESTART_MAX = Number(process.env.FLX_RESTART_MAX) || 5;
const RESTART_WINDOW_MS = 30000;

function spawn(group, kind, slot) {
  const worker = new wt.Worker(__filename, {
    workerData: { flx: true, dir: T.dir, group: group.name, kind, origin: T.origin, trace: T.traceOn },
  });
  const w = slot || { group: group.name, kind, inflight: 0, ready: false, queue: [], flight: [], exits: [], dead: false };
  w.worker = worker;
  worker.on('message', (m) => onWorkerMessage(w, m));
  worker.on('error', (e) => printError({ fluxion: '(worker)', thread: worker.threadId, group: group.name,
    code: typeof e.code === 'string' ? e.code : '', stack: e.stack || String(e) }));
  const tid = worker.threadId;
  worker.on('exit', (code) => {
    if (T.stopping) return;
    const lost = w.flight.concat(w.queue.map((m) => ({ dest: m.dest, keys: messageKeys(m) })));
    w.flight = [];
    w.queue = [];
    w.inflight = 0;
    w.ready = false;
    const now = Date.now();
    w.exits = w.exits.filter((t) => now - t < RESTART_WINDOW_MS);
    w.exits.push(now);
    const restarts = w.exits.length;
    const dead = restarts > RESTART_MAX;
    printError({ fluxion: '(worker)', thread: tid, group: group.name, code: 'FLX_WORKER_EXIT',
      stack: `worker exited with code ${code} holding ${lost.length} message(s) (their requests are answered 500); ` +
        (dead ? 'not restarted' : `starting a new one${restarts > 1 ? ` in ${restartDelay(restarts)} ms` : ''}`) });
    const err = lostError(`flx: worker of group '${group.name}' exited with code ${code}`);
    for (const f of lost) failKeys(f.keys, err);
    if (dead) {
      w.dead = true;
      const slots = kind === 'pool' ? T.pool : [w];
      if (slots.every((x) => x.dead)) {
        process.stderr.write(`flx: group '${group.name}' is dead: its worker exited ${restarts} times within ` +
          `${RESTART_WINDOW_MS / 1000} s (last exit code ${code}); its messages are answered 500\n`);
      }
      return;
    }
    const start = () => {
      if (T.stopping) return;
      spawn(group, kind, w);
      w.worker.postMessage({ t: 'init', ctx: snapshot(group) });
      w.ready = true;
      if (w.inflight > 0) w.worker.ref();
      for (const m of w.queue) post(w.worker, m);
      w.queue = [];
    };
    if (restarts <= 1) start();
    else setTimeout(start, restartDelay(restarts));
  });
  worker.unref();
  return w;
}

function restartDelay(restarts) {
  return Math.min(5000, 100 * 2 ** (restarts - 2));
}

function snapshot(group) {
  const vals = Object.create(null);
  for (const k of group.ctx || []) if (Object.prototype.hasOwnProperty.call(T.ctx, k)) vals[k] = T.ctx[k];
  return encodeMessage([], vals, true).vars;
}

// Asks every live worker to hand over its console output and trace records; resolves when all
// answered or after ms. handles (optional) collects their handle tables' sizes.
function flushWorkers(ms, handles) {
  const all = [...T.workers.values(), ...T.pool].filter((w) => w.worker && !w.dead);
  return Promise.all(all.map((w) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    w.onFlushed = (m) => { if (handles) handles[w.worker.threadId] = m.handles; clearTimeout(timer); resolve(); };
    try { w.worker.ref(); w.worker.postMessage({ t: 'flush' }); } catch (_) { clearTimeout(timer); resolve(); }
  })));
}

// Workers first hand over the trace records they still hold (bounded wait), then stop.
function shutdown(code) {
  T.stopping = true;
  const all = [...T.workers.values(), ...T.pool];
  setTimeout(() => process.exit(code), 1500).unref();
  const handles = { [threadId]: T.handles.size };
  flushWorkers(300, handles).then(() => {
    flushTrace();
    // FLX_STATS=1: the handle tables' sizes at exit (a leak check for tests).
    if (process.env.FLX_STATS) process.stderr.write(`flx: stats ${JSON.stringify({ handles, errors: T.errors })}\n`);
    return Promise.all(all.map((w) => w.worker.terminate().catch(() => {})));
  }).finally(() => process.exit(code));
}

function readPlacement(dir) {
  const file = path.join(dir, 'placement.json');
  let p;
  try {
    p = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`flx: cannot read ${file}: ${e.message}`);
  }
  const groups = Array.isArray(p && p.groups) ? p.groups : null;
  if (!groups || !p.fluxions || typeof p.fluxions !== 'object' ||
      groups.filter((g) => g && g.thread === 'main').length !== 1 ||
      !groups.every((g) => g && typeof g.name === 'string' && Array.isArray(g.fluxions))) {
    throw new Error(`flx: ${file}: expected {fluxions: {...}, groups: [{name, thread, fluxions, ctx}]} with exactly one group on thread "main"`);
  }
  for (const [id, f] of Object.entries(p.fluxions)) {
    if (!f || !groups.some((g) => g.name === f.group && g.fluxions.includes(id))) {
      throw new Error(`flx: ${file}: fluxion '${id}' is not listed in its group '${f && f.group}'`);
    }
  }
  return p;
}

function boot(dir) {
  T.dir = dir;
  T.placement = readPlacement(dir);
  T.origin = performance.timeOrigin;
  T.kind = 'main';
  const mainGroup = T.placement.groups.find((g) => g.thread === 'main');
  T.group = mainGroup.name;
  T.traceFile = process.env.FLX_TRACE || '';
  T.traceOn = !!T.traceFile;
  if (T.traceOn) {
    fs.writeFileSync(T.traceFile, '');
    setInterval(flushTrace, 1000).unref();
  }
  process.on('exit', flushTrace);
  // Natural exit (nothing left to run): workers first hand over their console output and trace
  // (bounded wait); the loop then runs dry again and the process exits. Any new message
  // routed meanwhile re-arms this.
  process.on('beforeExit', () => {
    if (T.idleFlushed || T.stopping) return;
    T.idleFlushed = true;
    flushWorkers(1000).then(() => {
      for (const w of [...T.workers.values(), ...T.pool]) if (w.inflight === 0 && w.worker) w.worker.unref();
    });
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => shutdown(sig === 'SIGINT' ? 130 : 143));

  const poolSize = Math.max(1, Number(process.env.FLX_WORKERS) || os.cpus().length);
  for (const g of T.placement.groups) {
    if (g.thread === 'main') continue;
    if (g.thread === 'pool') for (let i = 0; i < poolSize; i++) T.pool.push(spawn(g, 'pool'));
    else T.workers.set(g.name, spawn(g, 'worker'));
  }
  for (const id of mainGroup.fluxions) loadModule(id);
  runFluxion('main', [], {});
  // Snapshot: main's synchronous run is over; workers start from the values it computed.
  for (const w of [...T.workers.values(), ...T.pool]) {
    w.worker.postMessage({ t: 'init', ctx: snapshot(groupOf(w.group)) });
    w.ready = true;
    for (const m of w.queue) post(w.worker, m);
    w.queue = [];
  }
  return rt;
}

// ---------------------------------------------------------------- worker thread

function workerMain(data) {
  T.dir = data.dir;
  T.group = data.group;
  T.kind = data.kind;
  T.origin = data.origin;
  T.traceOn = data.trace;
  T.placement = readPlacement(T.dir);
  const group = groupOf(T.group);
  for (const id of group.fluxions) loadModule(id);
  process.on('uncaughtException', (e) => report(e, T.current));
  process.on('unhandledRejection', (e) => report(e, T.current));
  wt.parentPort.on('message', (m) => {
    if (m.t === 'init') {
      // A null-prototype ctx: a variable named __proto__ (or hasOwnProperty …) is an own property.
      T.ctx = Object.create(null);
      for (const k of Object.keys(m.ctx)) putKey(T.ctx, k, decode(m.ctx[k], `'${k}'`));
      T.ready = true;
      return;
    }
    if (m.t === 'release') {
      releaseRemote(m.key);
      return;
    }
    if (m.t === 'flush') {
      // The console output this worker wrote reaches main before the answer: a worker stdio
      // write calls back once main has taken the chunk (so nothing printed is lost at exit).
      const answer = () => {
        wt.parentPort.postMessage({ t: 'trace', recs: T.traceBuf, final: true, handles: T.handles.size });
        T.traceBuf = [];
      };
      process.stdout.write('', () => process.stderr.write('', answer));
      return;
    }
    if (m.t !== 'msg') return;
    T.inbox.push(m);
    if (T.inbox.length === 1) setImmediate(drain);
  });
  // One message per event-loop turn: a port delivers its pending messages in one batch, and
  // the continuations a run scheduled (setImmediate, I/O) must not wait behind the next run.
  // Whatever a run does (throws, or its error report cannot be posted), `done` is posted and
  // the next message is scheduled: main counts messages in flight by their `done`.
  function drain() {
    const m = T.inbox.shift();
    try {
      deliverRemote(m);
    } catch (e) {
      try { report(e, m.dest); } catch (_) { /* nothing more can be said */ }
    } finally {
      const done = { t: 'done', dest: m.dest };
      if (T.traceBuf.length) { done.trace = T.traceBuf; T.traceBuf = []; }
      try { wt.parentPort.postMessage(done); } catch (_) { wt.parentPort.postMessage({ t: 'done', dest: m.dest }); }
      if (T.inbox.length) setImmediate(drain);
    }
  }
  // Runs that happen outside a delivered message (same-thread sends) are flushed here.
  setInterval(() => {
    if (T.traceBuf.length) { wt.parentPort.postMessage({ t: 'trace', recs: T.traceBuf }); T.traceBuf = []; }
  }, 200).unref();
}

if (!wt.isMainThread && wt.workerData && wt.workerData.flx) workerMain(wt.workerData);

module.exports = { boot, rt };
