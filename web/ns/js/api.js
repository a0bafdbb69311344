// Admin API client (docs/protocols.md "Admin plane"). Adds the admin token, if one is stored, as
// `Authorization: Bearer` and turns the API's error JSON into an ApiError with a readable message.

const TOKEN_KEY = 'chiron.ns.adminToken';

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) ?? ''; } catch { return ''; }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lives for this page only */ }
}

export class ApiError extends Error {
  constructor(method, path, status, code, message) {
    super(message);
    this.method = method; this.path = path; this.status = status; this.code = code;
  }
  // "PUT /api/v1/services/web: 400 bad_request — unknown algorithm 'x'"
  describe() {
    const hint = this.status === 401 ? ' (enter the admin token at the top right)' : '';
    const what = this.status ? `${this.status}${this.code ? ' ' + this.code : ''}` : 'network error';
    return `${this.method} ${this.path}: ${what} — ${this.message}${hint}`;
  }
}

// Path segment for a service name or server id. ':' stays literal (RFC 3986 pchar), so
// `10.0.0.1:80` reaches the server as written; everything else is percent-encoded.
export function seg(s) {
  return encodeURIComponent(s).replace(/%3A/gi, ':');
}

export async function api(method, path, body, { timeoutMs = 10000 } = {}) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                              cache: 'no-store', signal: ctl.signal });
  } catch (err) {
    throw new ApiError(method, path, 0, '', ctl.signal.aborted ? `no answer in ${timeoutMs} ms` : String(err.message ?? err));
  } finally {
    clearTimeout(timer);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (!res.ok) {
    const e = json?.error;
    throw new ApiError(method, path, res.status, e?.code ?? '', e?.message ?? (text.trim().slice(0, 200) || res.statusText));
  }
  if (json === null && text) throw new ApiError(method, path, res.status, 'bad_json', 'the reply is not JSON');
  return json;
}
