// Who is logged in (GET /api/v1/me) and the account corner of the top bar.
import { api, ApiError, setCsrf } from './api.js';
import { el, $, toast } from './dom.js';

let mePromise = null;

// → {user, csrf, channel} or null when anonymous. Cached per page load.
export function loadMe() {
  mePromise ??= api('/me').then((me) => { setCsrf(me.csrf); return me; }, (err) => {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  });
  return mePromise;
}

export async function logout() {
  try {
    await api('/auth/logout', { method: 'POST' });
    location.href = '/';
  } catch (err) {
    toast(`Log out failed: ${err.message}`, 'bad');
  }
}

// A link to /login that comes back here afterwards.
export const loginHref = () => `/login?next=${encodeURIComponent(location.pathname + location.search)}`;

// Fills #account (top bar) and marks the current nav link; resolves with loadMe()'s value.
export async function initNav() {
  const box = $('account');
  let me = null;
  try {
    me = await loadMe();
  } catch (err) {
    toast(`Could not load your account: ${err.message}`, 'bad');
  }
  for (const a of document.querySelectorAll('.topbar nav a')) {
    if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
  }
  if (!box) return me;
  box.replaceChildren();
  if (me) {
    const name = me.user.name;
    const menu = el('details.account-menu', {},
      el('summary', { 'aria-label': `Account menu for ${name}` },
        el('span.avatar', { 'aria-hidden': 'true' }, (me.user.display_name || name).slice(0, 1).toUpperCase()),
        el('span.account-name', {}, me.user.display_name || name)),
      el('div.menu', { role: 'menu' },
        el('a', { href: `/c/${encodeURIComponent(name)}`, role: 'menuitem' }, 'My channel'),
        el('a', { href: `/u/${encodeURIComponent(name)}`, role: 'menuitem' }, 'My reviewer profile'),
        el('a', { href: '/settings', role: 'menuitem' }, 'Settings & stream keys'),
        el('button.linklike', { type: 'button', role: 'menuitem', id: 'logout', onclick: logout }, 'Log out')));
    document.addEventListener('click', (e) => { if (!menu.contains(e.target)) menu.open = false; });
    menu.addEventListener('keydown', (e) => { if (e.key === 'Escape') { menu.open = false; menu.querySelector('summary').focus(); } });
    box.append(menu);
    box.dataset.user = name;
  } else {
    box.append(el('a.button.secondary', { href: loginHref(), id: 'nav-login' }, 'Log in'),
               el('a.button', { href: '/signup', id: 'nav-signup' }, 'Sign up'));
  }
  return me;
}
