// HTTP JSON client of the node's API (docs: team brief "Node contract"). Reads need no token;
// submit and cancel send the token the user typed, kept in sessionStorage only (it dies with the
// tab), as `Authorization: Bearer`. Errors become an ApiError with a readable message.

const TOKEN_KEY = 'chiron.cluster.token';

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) ?? ''; } catch { return ''; }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token is forgotten on reload */ }
}

export class ApiError extends Error {
  constructor(method, path, status, code, message) {
    super(message);
    this.method = method; this.path = path; this.status = status; this.code = code;
  }
  // "DELETE /api/v1/jobs/7: 401 unauthorized — bad token"
  describe() {
    const what = this.status ? `${this.status}${this.code ? ' ' + this.code : ''}` : 'network error';
    const hint = this.status === 401 || this.status === 403 ? ' (check the token at the top right)' : '';
    return `${this.method} ${this.path}: ${what} — ${this.message}${hint}`;
  }
}

// Path segment for a job id (a decimal string by contract; encoded anyway).
export const seg = (s) => encodeURIComponent(String(s));

export async function api(method, path, { body, auth = false, timeoutMs = 4000 } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) {
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let res, text;
  try {
    res = await fetch(path, { method, headers, cache: 'no-store', signal: ctl.signal,
                              body: body === undefined ? undefined : JSON.stringify(body) });
    text = await res.text();
  } catch (err) {
    throw new ApiError(method, path, 0, '', ctl.signal.aborted ? `no answer in ${timeoutMs} ms` : String(err?.message ?? err));
  } finally {
    clearTimeout(timer);
  }
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* reported below */ }
  if (!res.ok) {
    const e = json?.error;
    throw new ApiError(method, path, res.status, typeof e?.code === 'string' ? e.code : '',
                       typeof e?.message === 'string' ? e.message : (text.trim().slice(0, 200) || res.statusText));
  }
  if (json === null || typeof json !== 'object') throw new ApiError(method, path, res.status, 'bad_json', 'the reply is not a JSON object');
  return json;
}
