// fluxc's scope analysis (src/fluxc/scope.cc) against eslint-scope 8.4 + espree 10.4 on every .js
// file under tests/fluxc/{inputs,golden,apps}: the same bindings (declaration → kind and the kind of
// scope holding it), every
// reference resolved to the same declaration (or both global), read / rebind / init flags equal.
// Files espree rejects must be rejected by fluxc too (exit 1); files fluxc refuses with exit 3 must
// contain eval or with. See tests/lib/scope_oracle.mjs for the comparison and the key shapes.
// Our side is the fluxc_scope_dump test tool, built next to chiron (src/fluxc/CMakeLists.txt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkFile, compareModels, eslintModel, fluxcModel, runDump } from '../lib/scope_oracle.mjs';
import { CHIRON_BIN, SOURCE_DIR, tempDir } from '../lib/chiron.mjs';

const sourceDir = SOURCE_DIR;
const dumpBin = path.join(path.dirname(CHIRON_BIN), '..', 'src', 'fluxc', 'fluxc_scope_dump');

function jsFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsFiles(p));
    else if (name.endsWith('.js')) out.push(p);
  }
  return out;
}

const files = ['inputs', 'golden', 'apps'].flatMap((d) => jsFiles(path.join(sourceDir, 'tests/fluxc', d)));

test('fluxc_scope_dump is built', () => {
  assert.ok(existsSync(dumpBin), `${dumpBin} missing: build the fluxc_scope_dump target`);
});

test('the oracle inputs cover the hard cases', () => {
  const inputs = files.filter((f) => f.includes(`${path.sep}inputs${path.sep}`));
  assert.ok(inputs.length >= 15, `${inputs.length} inputs`);
});

for (const file of files) {
  const rel = path.relative(sourceDir, file);
  test(`scope analysis agrees with eslint-scope: ${rel}`, () => {
    const res = checkFile(dumpBin, file);
    if (rel.endsWith('.bad.js')) {
      assert.ok(res.status === 'both-reject' || res.status === 'refused', `${rel}: ${res.status} ${res.diffs ?? ''}`);
      assert.match(res.message, /^.+:\d+:\d+: /, 'located error message');
      return;
    }
    assert.deepEqual(res.diffs ?? [], [], `${rel}: ${res.status}`);
    assert.ok(['agree', 'refused', 'both-reject'].includes(res.status), res.status);
  });
}

test('the oracle tells a wrong analysis apart (comparison self-test)', () => {
  const dir = tempDir();
  const file = path.join(dir, 'self.js');
  const src = 'var a = 1;\nfunction f(b) { let c = a; a += b; return c; }\nf(a);\nfree = 2;\n';
  writeFileSync(file, src);
  const theirs = eslintModel(src);
  const dump = JSON.parse(runDump(dumpBin, file).stdout);
  assert.deepEqual(compareModels(fluxcModel(dump), theirs), []);

  const mutate = (fn) => {
    const copy = structuredClone(dump);
    fn(copy);
    return compareModels(fluxcModel(copy), theirs);
  };
  const refAt = (d, name, n = 0) => d.refs.filter((r) => r.name === name)[n];
  // A reference resolved to the wrong binding, or left global.
  assert.equal(mutate((d) => { refAt(d, 'a', 1).binding = d.bindings.find((b) => b.name === 'c').id; }).length, 1);
  assert.equal(mutate((d) => { refAt(d, 'a', 1).binding = -1; }).length, 1);
  // A global resolved to something.
  assert.equal(mutate((d) => { refAt(d, 'free').binding = 0; }).length, 1);
  // Flags: a compound assignment that is not a rebind; an init reported as a rebind; a lost read.
  assert.equal(mutate((d) => { refAt(d, 'a', 2).rebind = false; }).length, 1);
  assert.equal(mutate((d) => { refAt(d, 'a', 0).init = false; refAt(d, 'a', 0).rebind = true; }).length, 1);
  assert.equal(mutate((d) => { refAt(d, 'b').read = false; }).length, 1);
  // A missing reference, an extra one, a wrong binding kind.
  assert.equal(mutate((d) => { d.refs.splice(d.refs.indexOf(refAt(d, 'c', 1)), 1); }).length, 1);
  assert.equal(mutate((d) => { d.refs.push({ ...refAt(d, 'c', 1), range: [0, 3], name: 'var' }); }).length, 1);
  assert.equal(mutate((d) => { d.bindings.find((b) => b.name === 'c').kind = 'var'; }).length, 1);
  // A let bound in the function scope instead of its block.
  assert.equal(mutate((d) => { d.bindings.find((b) => b.name === 'c').scope_kind = 'block'; }).length, 1);
  // A binding declared at the wrong identifier: its key, and every reference to it, differ.
  assert.equal(mutate((d) => { d.bindings.find((b) => b.name === 'f').decl = [0, 3]; }).length, 3);
});
