// Home: who is live now, recent sessions, top-rated reviewers (GET /api/v1/home).
import { api, showError } from './api.js';
import { el, $, userLink, userName, stars, timeAgo, formatDuration, plural } from './dom.js';
import { initNav } from './auth.js';

export function channelCard(ch) {
  const started = ch.session?.started_at;
  return el('a.channel-card', { href: `/c/${encodeURIComponent(ch.name)}` },
    el('div.thumb', { 'aria-hidden': 'true' },
      ch.live ? el('span.pill.pill-live', {}, 'LIVE') : el('span.pill', {}, 'offline'),
      `~/${ch.name}`),
    el('h3', {}, ch.title || ch.name),
    el('p.muted.small', {}, userName(ch.owner) || ch.name, started ? ` · live ${timeAgo(started).replace(/^in /, '')}` : ''),
    ch.tags?.length ? el('div.tags', {}, ch.tags.map((t) => el('span.tag', {}, t))) : null);
}

function sessionItem(s) {
  const people = s.participants?.length ?? 0;
  return el('li.list-item', {},
    el('div.grow', {},
      el('a', { href: `/s/${encodeURIComponent(s.id)}` }, `${s.channel}`),
      el('span.muted', {}, ` · ${timeAgo(s.started_at)}`),
      el('div.muted.small', {},
        `${formatDuration(s.duration_s ?? 0)} · ${plural(people, 'reviewer')} · ${plural(s.chat_messages, 'message')} · ` +
        `${plural(s.files_touched, 'file')} · ${plural(s.comments, 'comment')}`)),
    s.ended_at ? null : el('span.pill.pill-live', {}, 'LIVE'));
}

function reviewerItem(r, i) {
  return el('li.list-item', {},
    el('span.rank', { 'aria-hidden': 'true' }, String(i + 1)),
    el('div.grow', {}, userLink(r.user), el('div.muted.small', {}, plural(r.count, 'rating'))),
    stars(r.overall, { label: `${userName(r.user)} overall` }),
    el('strong', {}, Number(r.overall).toFixed(1)));
}

function fill(listId, emptyId, items, render) {
  $(listId).replaceChildren(...items.map(render));
  $(emptyId).hidden = items.length > 0;
}

async function refresh() {
  try {
    const home = await api('/home');
    fill('live-list', 'live-empty', home.live ?? [], channelCard);
    fill('recent-list', 'recent-empty', home.recent_sessions ?? [], sessionItem);
    fill('top-list', 'top-empty', home.top_reviewers ?? [], reviewerItem);
    showError($('home-error'), null);
  } catch (err) {
    showError($('home-error'), new Error(`Could not load the home page: ${err.message}`));
  }
}

Promise.all([initNav().then((me) => {
  if (me) {
    $('cta').replaceChildren(
      el('a.button', { href: `/c/${encodeURIComponent(me.user.name)}` }, 'Go to my channel'),
      el('a.button.secondary', { href: '/settings' }, 'Stream setup'));
  }
}), refresh()]).finally(() => { document.body.dataset.ready = 'true'; });
setInterval(refresh, 20000);
