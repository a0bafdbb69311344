// The channel's project: file tree (live), code viewer with highlight.js and line numbers,
// "last change" diff (global `Diff` from /vendor/diff/), history stepper, and line comments.
// highlight.js output is parsed into an inert document and rebuilt node by node (class names
// and text only), so file content never reaches innerHTML.
import { api, enc, encPath } from './api.js';
import { el, $, userLink, formatBytes, formatDateTime, timeAgo, toast } from './dom.js';
import { loginHref } from './auth.js';

const MAX_HIGHLIGHT_BYTES = 512 * 1024;
const MAX_AUTODETECT_BYTES = 24 * 1024;
const DIFF_CONTEXT = 3;

let hljs = null;
const hljsReady = import('/vendor/highlight.js/es/highlight.min.js')
  .then((m) => { hljs = m.default; }, (err) => console.warn('highlight.js unavailable; plain text', err));

const EXT_LANG = {
  c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', cxx: 'cpp', hpp: 'cpp', hh: 'cpp', js: 'javascript', mjs: 'javascript', cjs: 'javascript',
  ts: 'typescript', tsx: 'typescript', jsx: 'javascript', py: 'python', rb: 'ruby', rs: 'rust', go: 'go', java: 'java', kt: 'kotlin',
  cs: 'csharp', php: 'php', sh: 'bash', bash: 'bash', zsh: 'bash', json: 'json', md: 'markdown', html: 'xml', htm: 'xml', xml: 'xml',
  svg: 'xml', css: 'css', scss: 'scss', sql: 'sql', yml: 'yaml', yaml: 'yaml', toml: 'ini', ini: 'ini', txt: 'plaintext',
  swift: 'swift', lua: 'lua', hs: 'haskell', ml: 'ocaml', ex: 'elixir', exs: 'elixir', scala: 'scala', r: 'r', pl: 'perl',
};
const FILE_LANG = { makefile: 'makefile', dockerfile: 'dockerfile', 'cmakelists.txt': 'cmake' };

function languageFor(path) {
  const base = path.split('/').pop().toLowerCase();
  if (FILE_LANG[base]) return FILE_LANG[base];
  const ext = base.includes('.') ? base.split('.').pop() : '';
  if (ext === 'cmake') return 'cmake';
  const lang = EXT_LANG[ext] ?? ext;
  return lang && hljs?.getLanguage(lang) ? lang : null;
}

// Rebuilds highlight.js HTML as DOM, one array of nodes per source line (spans re-opened on
// every line so each line stands alone in its table cell).
function highlightLines(text, path) {
  const plain = () => text.split('\n').map((l) => (l ? [document.createTextNode(l)] : []));
  if (!hljs || text.length > MAX_HIGHLIGHT_BYTES) return plain();
  let html;
  try {
    const lang = languageFor(path);
    if (lang) html = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
    else if (text.length <= MAX_AUTODETECT_BYTES) html = hljs.highlightAuto(text).value;
    else return plain();
  } catch {
    return plain();
  }
  const doc = new DOMParser().parseFromString(`<pre>${html}</pre>`, 'text/html');
  const lines = [[]];
  const wrap = (t, classes) => {
    let node = document.createTextNode(t);
    for (let i = classes.length - 1; i >= 0; i--) {
      const span = document.createElement('span');
      span.className = classes[i];
      span.append(node);
      node = span;
    }
    return node;
  };
  const walk = (node, classes) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        child.data.split('\n').forEach((part, i) => {
          if (i > 0) lines.push([]);
          if (part) lines[lines.length - 1].push(wrap(part, classes));
        });
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const cls = String(child.getAttribute('class') ?? '').replace(/[^\w\s-]/g, '');
        walk(child, cls ? [...classes, cls] : classes);
      }
    }
  };
  walk(doc.querySelector('pre'), []);
  return lines;
}

function isBinary(bytes) {
  const n = Math.min(bytes.length, 8000);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

export class CodeView {
  constructor({ channel, me, canComment }) {
    this.channel = channel;
    this.me = me;
    this.canComment = canComment;
    this.files = new Map();        // path → {path,size,sha256,version,updated_at}
    this.collapsed = new Set();    // folder paths the user closed
    this.cache = new Map();        // "path@version" → {text, binary, size}
    this.path = null;              // open file
    this.history = [];             // its versions newest first, deleted ones included
    this.version = null;           // the version shown
    this.following = true;         // at the latest version: new saves replace the view
    this.mode = 'code';            // 'code' | 'diff'
    this.comments = [];            // comments on the open file
    this.formLine = null;          // line whose comment box is open
    this.loadSeq = 0;              // drops answers to superseded loads
    this.flashUntil = new Map();   // path → ms until which its tree entry stays highlighted
    $('tab-code').addEventListener('click', () => this.setMode('code'));
    $('tab-diff').addEventListener('click', () => this.setMode('diff'));
    $('older').addEventListener('click', () => this.step(+1));
    $('newer').addEventListener('click', () => this.step(-1));
    $('latest').addEventListener('click', () => this.showVersion(this.liveVersions()[0]?.version, { follow: true }));
    for (const tab of [$('tab-code'), $('tab-diff')]) {
      tab.addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
        const other = tab.id === 'tab-code' ? $('tab-diff') : $('tab-code');
        other.focus();
        other.click();
      });
    }
    window.addEventListener('hashchange', () => this.openFromHash());
  }

  // ---- tree ---------------------------------------------------------------------------------

  async loadTree() {
    const res = await api(`/channels/${enc(this.channel)}/files`);
    this.files = new Map(res.files.map((f) => [f.path, f]));
    this.usage = { count: res.count, total: res.total_bytes };
    this.renderTree();
    if (this.path && this.files.has(this.path)) this.refreshOpenFile();
  }

  renderTree() {
    const root = { dirs: new Map(), files: [] };
    for (const f of [...this.files.values()].sort((a, b) => a.path.localeCompare(b.path))) {
      const parts = f.path.split('/');
      let node = root;
      for (let i = 0; i < parts.length - 1; i++) {
        const key = parts.slice(0, i + 1).join('/');
        if (!node.dirs.has(parts[i])) node.dirs.set(parts[i], { key, dirs: new Map(), files: [] });
        node = node.dirs.get(parts[i]);
      }
      node.files.push(f);
    }
    const build = (node) => {
      const items = [];
      for (const [name, dir] of [...node.dirs].sort((a, b) => a[0].localeCompare(b[0]))) {
        const details = el('details', { open: !this.collapsed.has(dir.key) },
          el('summary', { 'data-dir': dir.key }, `${name}/`), el('ul', { role: 'group' }, build(dir)));
        details.addEventListener('toggle', () => {
          if (details.open) this.collapsed.delete(dir.key); else this.collapsed.add(dir.key);
        });
        items.push(el('li', {}, details));
      }
      for (const f of node.files) {
        const name = f.path.split('/').pop();
        const btn = el('button.file', {
          type: 'button', 'data-path': f.path, title: `${f.path} · v${f.version} · ${formatBytes(f.size)}`,
          'aria-current': f.path === this.path ? 'true' : 'false',
          onclick: () => this.open(f.path),
        }, el('span.name', {}, name), el('span.ver', {}, `v${f.version}`));
        items.push(el('li', {}, btn));
      }
      return items;
    };
    $('tree').replaceChildren(...build(root));
    // A re-render (the next save) keeps the highlight of files that changed a moment ago.
    const now = Date.now();
    for (const [path, until] of this.flashUntil) {
      if (until < now) this.flashUntil.delete(path);
      else this.treeButton(path)?.classList.add('flash');
    }
    $('tree-empty').hidden = this.files.size > 0;
    const total = [...this.files.values()].reduce((s, f) => s + (f.size || 0), 0);
    $('file-count').textContent = this.files.size ? `${this.files.size} · ${formatBytes(total)}` : '';
  }

  treeButton(path) {
    return [...document.querySelectorAll('#tree .file')].find((b) => b.dataset.path === path) ?? null;
  }

  flash(path) {
    const btn = this.treeButton(path);
    if (!btn) return;
    btn.classList.remove('flash');
    void btn.offsetWidth;  // restart the animation
    btn.classList.add('flash');
    this.flashUntil.set(path, Date.now() + 1500);
  }

  // A live `file` event: the tree changes at once; the open file follows if at its latest.
  onFile(ev) {
    if (ev.deleted) this.files.delete(ev.path);
    else this.files.set(ev.path, { path: ev.path, size: ev.size, sha256: ev.sha256, version: ev.version, updated_at: ev.at });
    this.renderTree();
    if (!ev.deleted) this.flash(ev.path);
    if (ev.path === this.path) this.refreshOpenFile();
  }

  // ---- file + history -------------------------------------------------------------------------

  liveVersions() { return this.history.filter((v) => !v.deleted); }

  openFromHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const file = p.get('file');
    if (!file) return false;
    const v = Number(p.get('v')) || null;
    const line = Number(p.get('line')) || null;
    if (file !== this.path || (v && v !== this.version)) this.open(file, { version: v, line, fromHash: true });
    else if (line) this.scrollToLine(line);
    return true;
  }

  setHash() {
    const p = new URLSearchParams();
    p.set('file', this.path);
    if (!this.following && this.version) p.set('v', String(this.version));
    history.replaceState(null, '', `${location.pathname}${location.search}#${p.toString()}`);
  }

  async open(path, { version = null, line = null } = {}) {
    const seq = ++this.loadSeq;
    this.path = path;
    this.formLine = null;
    for (const b of document.querySelectorAll('#tree .file')) b.setAttribute('aria-current', b.dataset.path === path ? 'true' : 'false');
    $('viewer-path').textContent = path;
    this.showMessage('Loading…');
    try {
      const [hist, comments] = await Promise.all([
        api(`/channels/${enc(this.channel)}/history/${encPath(path)}`),
        api(`/channels/${enc(this.channel)}/comments?path=${enc(path)}`),
      ]);
      if (seq !== this.loadSeq) return;
      this.history = hist.versions ?? [];
      this.comments = comments.comments ?? [];
      const live = this.liveVersions();
      const target = version && live.some((v) => v.version === version) ? version : live[0]?.version;
      if (!target) { this.showMessage('This file was deleted.'); this.updateStepper(); return; }
      await this.showVersion(target, { follow: target === live[0].version, line });
    } catch (err) {
      if (seq === this.loadSeq) this.showMessage(`Could not open ${path}: ${err.message}`, true);
    }
  }

  // New version or deletion of the open file.
  async refreshOpenFile() {
    const path = this.path;
    try {
      const hist = await api(`/channels/${enc(this.channel)}/history/${encPath(path)}`);
      if (path !== this.path) return;
      this.history = hist.versions ?? [];
      const live = this.liveVersions();
      if (this.history[0]?.deleted) {
        this.updateStepper();
        this.setMeta(`Deleted in v${this.history[0].version} ${timeAgo(this.history[0].created_at)} — showing the last version.`);
        return;
      }
      // A comment being written pins the version it is about; the stepper offers the new one.
      const writing = Boolean(this.formLine && $('comment-text')?.value.trim());
      if (this.following && !writing && live[0] && live[0].version !== this.version) {
        const scroll = $('viewer-body').scrollTop;
        const before = this.entry;
        await this.showVersion(live[0].version, { follow: true, keepScroll: scroll });
        this.flashChangedLines(before);
      } else {
        this.updateStepper();
      }
    } catch (err) {
      console.warn('refresh failed', err);
    }
  }

  async content(path, version) {
    const key = `${path}@${version}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const res = await api(`/channels/${enc(this.channel)}/files/${encPath(path)}?version=${version}`, { raw: true });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const entry = isBinary(bytes) ? { binary: true, size: bytes.length, text: '' }
                                  : { binary: false, size: bytes.length, text: new TextDecoder().decode(bytes) };
    this.cache.set(key, entry);
    return entry;
  }

  async showVersion(version, { follow = false, line = null, keepScroll = null } = {}) {
    if (!version) return;
    const seq = ++this.loadSeq;
    const path = this.path;
    try {
      await hljsReady;
      const entry = await this.content(path, version);
      const prev = this.previousOf(version);
      const prevEntry = this.mode === 'diff' && prev ? await this.content(path, prev.version) : null;
      if (seq !== this.loadSeq) return;
      this.version = version;
      this.following = follow;
      this.entry = entry;
      this.prevEntry = prevEntry;
      this.render();
      this.updateStepper();
      this.setHash();
      if (line) this.scrollToLine(line);
      else if (keepScroll !== null) $('viewer-body').scrollTop = keepScroll;
    } catch (err) {
      if (seq === this.loadSeq) this.showMessage(`Could not load v${version}: ${err.message}`, true);
    }
  }

  // After following a save: the lines it added or changed light up briefly.
  flashChangedLines(before) {
    if (!before || before.binary || !this.entry || this.entry.binary || this.mode !== 'code' || typeof Diff === 'undefined') return;
    let n = 1;
    // eslint-disable-next-line no-undef
    for (const part of Diff.diffLines(before.text, this.entry.text)) {
      if (part.removed) continue;
      const count = part.count ?? part.value.split('\n').length - 1;
      if (part.added) {
        for (let i = 0; i < count; i++) $('viewer-body').querySelector(`#L${n + i}`)?.classList.add('changed');
      }
      n += count;
    }
  }

  previousOf(version) {
    const live = this.liveVersions();
    const i = live.findIndex((v) => v.version === version);
    return i >= 0 ? live[i + 1] ?? null : null;
  }

  step(delta) {
    const live = this.liveVersions();
    const i = live.findIndex((v) => v.version === this.version);
    const next = live[i + delta];
    if (next) this.showVersion(next.version, { follow: i + delta === 0 });
  }

  updateStepper() {
    const live = this.liveVersions();
    const i = live.findIndex((v) => v.version === this.version);
    $('older').disabled = i < 0 || i >= live.length - 1;
    $('newer').disabled = i <= 0;
    $('latest').hidden = i <= 0;
    const where = $('version-where');
    if (i < 0) { where.textContent = '—'; return; }
    where.textContent = `v${this.version} · ${live.length - i} of ${live.length}`;
    where.title = formatDateTime(live[i].created_at);
    const v = live[i];
    const newer = i > 0 ? ` · ${i} newer version${i === 1 ? '' : 's'}` : '';
    this.setMeta(`Saved ${timeAgo(v.created_at)} · ${formatBytes(v.size)} · sha256 ${String(v.sha256).slice(0, 12)}…${newer}`);
  }

  setMeta(text) {
    $('viewer-meta').hidden = !text;
    $('viewer-meta').textContent = text;
  }

  setMode(mode) {
    this.mode = mode;
    $('tab-code').setAttribute('aria-selected', String(mode === 'code'));
    $('tab-diff').setAttribute('aria-selected', String(mode === 'diff'));
    if (this.path && this.version) this.showVersion(this.version, { follow: this.following });
  }

  showMessage(text, bad = false) {
    $('viewer-body').replaceChildren(el(`p.viewer-empty${bad ? '.error' : ''}`, {}, text));
  }

  // ---- rendering ------------------------------------------------------------------------------

  render() {
    if (this.entry.binary) {
      this.showMessage(`Binary file, ${formatBytes(this.entry.size)} — not shown.`);
      return;
    }
    if (this.mode === 'diff') this.renderDiff();
    else this.renderCode();
  }

  renderCode() {
    const lines = highlightLines(this.entry.text, this.path);
    if (lines.length > 1 && lines[lines.length - 1].length === 0 && this.entry.text.endsWith('\n')) lines.pop();
    this.lineCount = lines.length;
    const tbody = el('tbody');
    lines.forEach((nodes, i) => {
      const n = i + 1;
      const btn = el('button', {
        type: 'button', 'data-line': n, tabindex: n === 1 ? '0' : '-1',
        'aria-label': this.canComment ? `Line ${n}: add a comment` : `Line ${n}`,
        onclick: () => this.openForm(n),
      }, String(n));
      tbody.append(el('tr.line', { id: `L${n}`, 'data-line': n }, el('td.ln', {}, btn), el('td.src', {}, ...nodes)));
    });
    const table = el('table.code', { 'aria-label': `${this.path} version ${this.version}` }, tbody);
    // One tab stop for all line numbers; arrows, Page keys, Home and End move between them.
    table.addEventListener('keydown', (e) => {
      const from = e.target.closest?.('.ln button');
      if (!from) return;
      const steps = { ArrowDown: 1, ArrowUp: -1, PageDown: 20, PageUp: -20, Home: -Infinity, End: Infinity }[e.key];
      if (steps === undefined) return;
      e.preventDefault();
      const n = Math.max(1, Math.min(this.lineCount, Number(from.dataset.line) + (Number.isFinite(steps) ? steps : steps > 0 ? this.lineCount : -this.lineCount)));
      const to = table.querySelector(`#L${n} .ln button`);
      if (!to) return;
      from.tabIndex = -1;
      to.tabIndex = 0;
      to.focus();
    });
    $('viewer-body').replaceChildren(table);
    this.renderComments();
  }

  // Comments of the open file, each under its line (with its version noted when it was made
  // on another version).
  renderComments() {
    if (this.mode !== 'code' || !this.entry || this.entry.binary) return;
    const body = $('viewer-body');
    const formRow = body.querySelector('tr.form-row');
    formRow?.remove();  // kept as is (typed text survives) and put back below
    for (const r of body.querySelectorAll('tr.comments-row')) r.remove();
    for (const b of body.querySelectorAll('.ln button.has-comments')) b.classList.remove('has-comments');
    const byLine = new Map();
    for (const c of this.comments) {
      if (c.line < 1 || c.line > this.lineCount) continue;
      if (!byLine.has(c.line)) byLine.set(c.line, []);
      byLine.get(c.line).push(c);
    }
    for (const [line, list] of byLine) {
      const row = body.querySelector(`#L${line}`);
      if (!row) continue;
      row.querySelector('.ln button').classList.add('has-comments');
      const td = el('td.thread', { colspan: 1 }, list.map((c) => this.commentEl(c)));
      row.after(el('tr.comments-row', { 'data-line': line }, el('td.ln'), td));
    }
    if (formRow && this.formLine) {
      let anchor = body.querySelector(`#L${this.formLine}`);
      if (anchor?.nextElementSibling?.classList.contains('comments-row')) anchor = anchor.nextElementSibling;
      anchor?.after(formRow);
    }
  }

  commentEl(c) {
    const mine = this.me && c.author?.name === this.me.user.name;
    const isOwner = this.me && this.me.user.name === this.channel;
    const head = el('div.comment-head', {}, userLink(c.author),
      el('time', { datetime: c.created_at, title: formatDateTime(c.created_at) }, timeAgo(c.created_at)),
      c.version !== this.version ? el('span.tag', { title: `Made on version ${c.version}` }, `on v${c.version}`) : null);
    if (mine || isOwner) {
      head.append(el('button.linklike.small', {
        type: 'button', 'aria-label': 'Delete comment',
        onclick: async () => {
          try { await api(`/comments/${enc(c.id)}`, { method: 'DELETE' }); this.onCommentDeleted(c.id); }
          catch (err) { toast(`Could not delete: ${err.message}`, 'bad'); }
        },
      }, 'delete'));
    }
    const box = el('div.comment', { 'data-comment-id': c.id }, head, el('p.comment-body', {}, c.body));
    if (c.fresh) { box.classList.add('fresh'); delete c.fresh; }
    return box;
  }

  openForm(line) {
    if (!this.canComment) {
      toast(el('span', {}, el('a', { href: loginHref() }, 'Log in'), ' to comment on a line.'));
      return;
    }
    const body = $('viewer-body');
    body.querySelector('tr.form-row')?.remove();
    for (const r of body.querySelectorAll('tr.line.target')) r.classList.remove('target');
    const row = body.querySelector(`#L${line}`);
    if (!row) return;
    row.classList.add('target');
    this.formLine = line;
    const text = el('textarea', { id: 'comment-text', rows: 3, maxlength: 4000, required: true,
      placeholder: 'What would you suggest here? (Ctrl+Enter to post)' });
    const error = el('p.error.small', { role: 'alert', hidden: true });
    const form = el('form.comment-form', { 'aria-label': `Comment on line ${line}` },
      el('label.label', { for: 'comment-text' }, `Comment on line ${line} of ${this.path} (v${this.version})`),
      text, error,
      el('div.row', {},
        el('button.secondary.small', { type: 'button', onclick: () => this.closeForm() }, 'Cancel'),
        el('button.small', { type: 'submit', id: 'comment-submit' }, 'Comment')));
    form.addEventListener('submit', (e) => { e.preventDefault(); this.submitComment(line, text, error, form); });
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
      if (e.key === 'Escape') this.closeForm();
    });
    let anchor = row;
    if (anchor.nextElementSibling?.classList.contains('comments-row')) anchor = anchor.nextElementSibling;
    anchor.after(el('tr.form-row', { 'data-line': line }, el('td.ln'), el('td.thread', {}, form)));
    text.focus();
  }

  closeForm() {
    const body = $('viewer-body');
    const line = this.formLine;
    body.querySelector('tr.form-row')?.remove();
    for (const r of body.querySelectorAll('tr.line.target')) r.classList.remove('target');
    this.formLine = null;
    body.querySelector(`#L${line} .ln button`)?.focus();
  }

  async submitComment(line, text, error, form) {
    const bodyText = text.value.trim();
    if (!bodyText) { error.textContent = 'Write something first.'; error.hidden = false; return; }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const c = await api(`/channels/${enc(this.channel)}/comments`, {
        method: 'POST', body: { path: this.path, version: this.version, line, body: bodyText },
      });
      this.formLine = null;
      this.onComment(c);
      // The live event may have rendered it first (keeping the form); the form is done now.
      form.closest('tr.form-row')?.remove();
      for (const r of $('viewer-body').querySelectorAll('tr.line.target')) r.classList.remove('target');
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      btn.disabled = false;
    }
  }

  onComment(c) {
    if (!c || c.path !== this.path) return;
    if (this.comments.some((x) => x.id === c.id)) return;
    c.fresh = true;
    this.comments.push(c);
    this.renderComments();
  }

  onCommentDeleted(id) {
    const before = this.comments.length;
    this.comments = this.comments.filter((c) => c.id !== id);
    if (this.comments.length !== before) this.renderComments();
  }

  scrollToLine(line) {
    const row = $('viewer-body').querySelector(`#L${line}`);
    if (!row) return;
    row.scrollIntoView({ block: 'center' });
    row.classList.add('target');
    setTimeout(() => row.classList.remove('target'), 2500);
  }

  // The change that made this version: the previous live version against this one.
  renderDiff() {
    const prev = this.previousOf(this.version);
    if (!prev || !this.prevEntry) {
      this.showMessage(`v${this.version} is the first version of this file — nothing to compare yet.`);
      return;
    }
    if (this.prevEntry.binary) { this.showMessage('The previous version is binary — no line diff.'); return; }
    if (typeof Diff === 'undefined') { this.showMessage('The diff library did not load.', true); return; }
    // eslint-disable-next-line no-undef
    const parts = Diff.diffLines(this.prevEntry.text, this.entry.text);
    const rows = [];
    let oldN = 1, newN = 1, added = 0, removed = 0;
    const lineRow = (cls, o, n, sign, textLine) => el(`tr.${cls}`, {},
      el('td.ln', { 'aria-label': o ? `old line ${o}` : 'added' }, o ?? ''),
      el('td.ln', { 'aria-label': n ? `new line ${n}` : 'removed' }, n ?? ''),
      el('td.src', {}, el('span.sign', { 'aria-hidden': 'true' }, sign), textLine));
    parts.forEach((part, pi) => {
      const lines = part.value.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      if (part.added || part.removed) {
        for (const l of lines) {
          if (part.added) { rows.push(lineRow('add', null, newN++, '+', l)); added++; }
          else { rows.push(lineRow('del', oldN++, null, '−', l)); removed++; }
        }
        return;
      }
      // Unchanged: keep DIFF_CONTEXT lines next to changes, fold the rest.
      const first = pi === 0, last = pi === parts.length - 1;
      const head = first ? 0 : DIFF_CONTEXT, tail = last ? 0 : DIFF_CONTEXT;
      lines.forEach((l, i) => {
        const keep = i < head || i >= lines.length - tail;
        if (keep) rows.push(lineRow('ctx', oldN, newN, ' ', l));
        else if (i === head) {
          const hidden = lines.length - head - tail;
          rows.push(el('tr.skip', {}, el('td', { colspan: 3 }, `⋯ ${hidden} unchanged line${hidden === 1 ? '' : 's'}`)));
        }
        oldN++; newN++;
      });
    });
    const summary = el('p.diff-summary', {}, `v${prev.version} → v${this.version}: `,
      el('span', { style: 'color: var(--ok)' }, `+${added}`), ' ',
      el('span', { style: 'color: var(--bad)' }, `−${removed}`), added + removed === 0 ? ' (same text)' : '');
    $('viewer-body').replaceChildren(summary,
      el('table.code.diff', { 'aria-label': `Changes from v${prev.version} to v${this.version}` }, el('tbody', {}, rows)));
  }
}
