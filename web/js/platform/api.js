// The platform's JSON API client (docs/platform-api.md): same-origin cookie session, the CSRF
// header on every state-changing request, and errors as ApiError carrying the server's
// {"error":{"code","message"}}.

let csrfToken = null;
export const setCsrf = (t) => { csrfToken = t || null; };

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'http_error';
  }
}

// api('/channels/x', {method, body, raw}) → parsed JSON (null for 204), or the Response with
// raw: true. body: a plain object (sent as JSON) or a string/Blob (sent as is).
export async function api(path, { method = 'GET', body, raw = false, headers = {}, signal } = {}) {
  const h = { ...headers };
  let payload = body;
  if (body !== undefined && !(typeof body === 'string' || body instanceof Blob)) {
    payload = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers: h, body: payload, credentials: 'same-origin', cache: 'no-store', signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    let code = '', message = '';
    try {
      const j = await res.json();
      code = j?.error?.code ?? '';
      message = j?.error?.message ?? (typeof j?.error === 'string' ? j.error : '');
    } catch { /* not JSON */ }
    throw new ApiError(res.status, code, message || `${res.status} ${res.statusText}`);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// Shows an error in an element (role="alert" in the markup) or clears it with null.
export function showError(target, err) {
  if (!target) return;
  const msg = err ? (err.message || String(err)) : '';
  target.textContent = msg ? msg[0].toUpperCase() + msg.slice(1) : '';
  target.hidden = !err;
}

export const enc = encodeURIComponent;
// A file path for a URL: each segment encoded, slashes kept.
export const encPath = (p) => p.split('/').map(encodeURIComponent).join('/');
