// The eslint-scope oracle for fluxc's scope analysis (src/fluxc/scope.h).
// eslint-scope 8.4 over espree 10.4 (ecmaVersion 2022, sourceType "commonjs": eslint-scope then
// runs with a node.js module scope — a function scope under the global scope — which is exactly
// CommonJS: top-level `var`s are module-local, `return` is allowed, `arguments` exists at top level).
// Both sides are reduced to the same shape and compared:
//   bindings: key → {name, kind, scope}   scope = the kind of scope it lives in (eslint-scope's
//             class-static-block is our function scope, its module wrapper function our module); key = "<declBegin>:<declEnd>:<class|outer>" (a class declaration
//             binds its name twice: in the enclosing scope and in its class scope); implicit
//             `arguments` are keyed "arguments@<function end>" / "arguments@module" and compared
//             only when referenced (eslint-scope creates one in every function)
//   refs:     "<begin>:<end>" → {name, resolved: binding key | "global", read, rebind, init}
//             (eslint-scope may report two references at one identifier, e.g. a default inside an
//             initialized pattern: they are merged by OR-ing the flags)
// Run directly for a diff: node tests/lib/scope_oracle.mjs DUMP_BINARY FILE.js
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as espree from 'espree';
import * as eslintScope from 'eslint-scope';

// Blanks a leading "#!" line (same length, so byte ranges stay put).
function blankHashbang(src) {
  if (!src.startsWith('#!')) return src;
  const nl = src.indexOf('\n');
  const end = nl < 0 ? src.length : nl;
  return ' '.repeat(end) + src.slice(end);
}

// UTF-16 index → UTF-8 byte offset table (espree ranges are string indices; ours are bytes).
function byteOffsets(src) {
  const offsets = new Array(src.length + 1);
  let bytes = 0;
  for (let i = 0; i < src.length; i++) {
    offsets[i] = bytes;
    const c = src.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { bytes += 4; offsets[++i] = bytes; }
    else bytes += 3;
  }
  offsets[src.length] = bytes;
  return offsets;
}

export function parseWithEslint(src) {
  const text = blankHashbang(src);
  const ast = espree.parse(text, { ecmaVersion: 2022, sourceType: 'commonjs', range: true });
  const manager = eslintScope.analyze(ast, { ecmaVersion: 2022, sourceType: 'commonjs' });
  return { ast, manager };
}

function hasEvalOrWith(ast) {
  let found = false;
  const walk = (n) => {
    if (found || !n || typeof n.type !== 'string') return;
    if (n.type === 'WithStatement') { found = true; return; }
    if (n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === 'eval') { found = true; return; }
    for (const k of Object.keys(n)) {
      if (k === 'parent') continue;
      const v = n[k];
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v.type === 'string') walk(v);
    }
  };
  walk(ast);
  return found;
}

// eslint-scope's view, reduced.
export function eslintModel(src) {
  const { ast, manager } = parseWithEslint(src);
  const b = byteOffsets(blankHashbang(src));
  const range = (node) => `${b[node.range[0]]}:${b[node.range[1]]}`;
  const varKey = (v) => {
    if (v.defs.length === 0) {
      return v.scope.block.type === 'Program' ? 'arguments@module' : `arguments@${b[v.scope.block.range[1]]}`;
    }
    return `${range(v.defs[0].name)}:${v.scope.type === 'class' ? 'class' : 'outer'}`;
  };
  const kindOf = (v) => {
    const d = v.defs[0];
    switch (d.type) {
      case 'Variable': return d.kind;
      case 'Parameter': return 'param';
      case 'FunctionName': return v.scope.type === 'function-expression-name' ? 'function-name' : 'function';
      case 'ClassName': return 'class';
      case 'CatchClause': return 'catch';
      default: return d.type;
    }
  };
  const scopeKind = (scope) => {
    if (scope.type === 'function' && scope.block.type === 'Program') return 'module';
    if (scope.type === 'class-static-block') return 'function';
    return scope.type;
  };
  const bindings = {};
  const refs = {};
  for (const scope of manager.scopes) {
    if (scope.type === 'global') {
      for (const v of scope.variables) {
        if (v.defs.length) bindings[varKey(v)] = { name: v.name, kind: `global-${kindOf(v)}`, scope: 'global' };
      }
    } else {
      for (const v of scope.variables) {
        if (v.defs.length === 0 && v.references.length === 0) continue;
        bindings[varKey(v)] = { name: v.name, kind: v.defs.length ? kindOf(v) : 'arguments', scope: scopeKind(scope) };
      }
    }
    for (const r of scope.references) {
      const key = range(r.identifier);
      const resolved = r.resolved ? varKey(r.resolved) : 'global';
      const cur = refs[key] ?? { name: r.identifier.name, resolved, read: false, rebind: false, init: false };
      if (cur.resolved !== resolved) cur.resolved = `${cur.resolved}|${resolved}`;  // never expected
      cur.read ||= r.isRead();
      cur.rebind ||= r.isWrite() && !r.init;
      cur.init ||= !!(r.isWrite() && r.init);
      refs[key] = cur;
    }
  }
  return { bindings, refs, evalOrWith: hasEvalOrWith(ast) };
}

// Our dump (fluxc_scope_dump JSON), reduced the same way.
export function fluxcModel(dump) {
  const keyOf = (bd) => {
    if (bd.kind === 'arguments') return bd.scope === 0 ? 'arguments@module' : `arguments@${dump.scopes[bd.scope].range[1]}`;
    return `${bd.decl[0]}:${bd.decl[1]}:${bd.scope_kind === 'class' ? 'class' : 'outer'}`;
  };
  const bindings = {};
  for (const bd of dump.bindings) bindings[keyOf(bd)] = { name: bd.name, kind: bd.kind, scope: bd.scope_kind };
  const refs = {};
  for (const r of dump.refs) {
    const key = `${r.range[0]}:${r.range[1]}`;
    const resolved = r.binding >= 0 ? keyOf(dump.bindings[r.binding]) : 'global';
    const cur = refs[key] ?? { name: r.name, resolved, read: false, rebind: false, init: false };
    if (cur.resolved !== resolved) cur.resolved = `${cur.resolved}|${resolved}`;
    cur.read ||= r.read;
    cur.rebind ||= r.rebind;
    cur.init ||= r.init;
    refs[key] = cur;
  }
  return { bindings, refs };
}

// The differences between two reduced models, as readable lines ([] = they agree).
export function compareModels(ours, theirs) {
  const diffs = [];
  const side = (label, a, b) => {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = JSON.stringify(a[k]);
      const y = JSON.stringify(b[k]);
      if (x !== y) diffs.push(`${label} ${k}: fluxc ${x ?? 'missing'} vs eslint-scope ${y ?? 'missing'}`);
    }
  };
  side('binding', ours.bindings, theirs.bindings);
  side('ref', ours.refs, theirs.refs);
  return diffs;
}

export function runDump(dumpBinary, file) {
  const r = spawnSync(dumpBinary, [file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Checks one file: {status: 'agree'|'refused'|'differs'|..., diffs, message}.
export function checkFile(dumpBinary, file) {
  const src = readFileSync(file, 'utf8');
  let theirs;
  try {
    theirs = eslintModel(src);
  } catch (e) {
    const ours = runDump(dumpBinary, file);
    return ours.code === 1 ? { status: 'both-reject', message: ours.stderr.trim() }
                           : { status: 'differs', diffs: [`espree rejects (${e.message}) but fluxc exits ${ours.code}`] };
  }
  const ours = runDump(dumpBinary, file);
  if (ours.code === 3) {
    return theirs.evalOrWith ? { status: 'refused', message: ours.stderr.trim() }
                             : { status: 'differs', diffs: [`fluxc refuses (${ours.stderr.trim()}) without eval/with`] };
  }
  if (ours.code !== 0) return { status: 'differs', diffs: [`fluxc exits ${ours.code}: ${ours.stderr.trim()}`] };
  const diffs = compareModels(fluxcModel(JSON.parse(ours.stdout)), theirs);
  return { status: diffs.length ? 'differs' : 'agree', diffs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dump, file] = process.argv.slice(2);
  const res = checkFile(dump, file);
  console.log(res.status, res.message ?? '');
  for (const d of res.diffs ?? []) console.log('  ' + d);
  process.exitCode = res.status === 'differs' ? 1 : 0;
}
