// /login and /signup: one form each, errors from the server shown as they are.
import { api, showError, setCsrf } from './api.js';
import { $ } from './dom.js';
import { initNav } from './auth.js';

const form = $('auth-form');
const mode = form.dataset.mode;  // 'login' | 'signup'
const NAME_RE = /^[a-z0-9][a-z0-9_-]{1,31}$/;

// Only same-site paths: never bounce a login to another origin.
function nextUrl(fallback) {
  const n = new URLSearchParams(location.search).get('next');
  return n && n.startsWith('/') && !n.startsWith('//') ? n : fallback;
}

function check() {
  const name = $('name').value.trim();
  const password = $('password').value;
  if (!name) return ['name', 'Enter your user name.'];
  if (mode === 'signup' && !NAME_RE.test(name)) {
    return ['name', 'User names are 2–32 characters: lowercase letters, digits, "-" and "_", starting with a letter or digit.'];
  }
  if (!password) return ['password', 'Enter your password.'];
  if (mode === 'signup' && password.length < 8) return ['password', 'Passwords need at least 8 characters.'];
  return null;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('auth-error');
  for (const id of ['name', 'password']) $(id).removeAttribute('aria-invalid');
  const bad = check();
  if (bad) {
    $(bad[0]).setAttribute('aria-invalid', 'true');
    $(bad[0]).focus();
    showError(err, new Error(bad[1]));
    return;
  }
  showError(err, null);
  const body = { name: $('name').value.trim(), password: $('password').value };
  if (mode === 'signup' && $('display_name').value.trim()) body.display_name = $('display_name').value.trim();
  const submit = $('auth-submit');
  submit.disabled = true;
  submit.textContent = mode === 'signup' ? 'Creating your account…' : 'Logging in…';
  try {
    const res = await api(`/auth/${mode}`, { method: 'POST', body });
    setCsrf(res.csrf);
    location.href = nextUrl(mode === 'signup' ? '/settings?welcome=1' : `/c/${encodeURIComponent(res.user.name)}`);
  } catch (e2) {
    const msg = e2.code === 'already_exists' ? `The name "${body.name}" is taken; pick another one.` : e2.message;
    showError(err, new Error(msg));
    (e2.code === 'already_exists' ? $('name') : $('password')).focus();
    submit.disabled = false;
    submit.textContent = mode === 'signup' ? 'Sign up' : 'Log in';
  }
});

// Keep ?next= when switching between the two forms.
const next = new URLSearchParams(location.search).get('next');
if (next) $('switch-link').href += `?next=${encodeURIComponent(next)}`;

initNav().then((me) => {
  document.body.dataset.ready = 'true';
  if (me && mode === 'login') {
    $('auth-error').hidden = false;
    $('auth-error').className = 'hint';
    $('auth-error').textContent = `You are logged in as ${me.user.name}. Logging in again switches accounts.`;
  }
});
$('name').focus();
