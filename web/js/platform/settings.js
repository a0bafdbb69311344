// /settings: the logged-in user's channel — details, invites, secrets (hidden until revealed,
// copy, rotate), copy-paste instructions for `chiron push`, OBS and ffmpeg, and "Record sessions"
// when the server records (the channel JSON then carries `record`).
import { api, enc, showError } from './api.js';
import { el, $, userLink, copyText, toast } from './dom.js';
import { initNav } from './auth.js';

let me = null;
let secrets = null;  // {stream_key, push_token} once fetched
let ingest = null;   // {enabled, host, port, app}: where OBS connects (GET /api/v1/media/ingest)
const HIDDEN = '••••••••••••••••';

const chan = () => `/channels/${enc(me.user.name)}`;

function fillChannel(c) {
  $('title').value = c.title ?? '';
  $('description').value = c.description ?? '';
  $('tags').value = (c.tags ?? []).join(', ');
  $('private').checked = Boolean(c.private);
  // Only a server that can record sends `record`; without it there is nothing to switch.
  $('record-box').hidden = typeof c.record !== 'boolean';
  $('record').checked = Boolean(c.record);
}

async function getSecrets() {
  secrets ??= await api(`${chan()}/secrets`);
  return secrets;
}

function renderCommands() {
  const token = secrets && $('push-token').type === 'text' ? secrets.push_token : '<push token>';
  const key = secrets && $('stream-key').type === 'text' ? secrets.stream_key : '<stream key>';
  // The server tells where RTMP listens (GET /api/v1/media/ingest); 1935 until it answered.
  const host = ingest?.host && !['127.0.0.1', '::1'].includes(ingest.host) ? ingest.host : location.hostname;
  const rtmp = `rtmp://${host}:${ingest?.port ?? 1935}/live`;
  $('push-cmd').textContent = `chiron push ./my-project --server ${location.origin} --token ${token}`;
  $('rtmp-url').textContent = rtmp;
  $('obs-key').textContent = secrets && $('stream-key').type === 'text' ? secrets.stream_key : 'your stream key (above)';
  // x264 veryfast, a keyframe every 2 s at 30 fps, CBR-like 3000 kbit/s, AAC 128 kbit/s.
  const x264 = '-c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p -g 60 -keyint_min 60 ' +
              '-b:v 3000k -maxrate 3000k -bufsize 6000k -c:a aac -b:a 128k -ar 44100';
  $('ffmpeg-cmd').textContent = `ffmpeg -re -i talk.mp4 ${x264} -f flv ${rtmp}/${key}`;
  $('ffmpeg-screen-cmd').textContent = 'ffmpeg -f x11grab -framerate 30 -video_size 1920x1080 -i :0.0 ' +
    `-f pulse -i default ${x264} -f flv ${rtmp}/${key}`;
}

function renderInvites(invites) {
  $('invites').replaceChildren(...invites.map((u) => el('li.list-item', { 'data-user': u.name },
    el('span.grow', {}, userLink(u)),
    el('button.danger.small', { type: 'button', 'aria-label': `Remove invite for ${u.name}`, onclick: () => removeInvite(u.name) }, 'Remove'))));
  $('invites-empty').hidden = invites.length > 0;
}

async function removeInvite(user) {
  try {
    const res = await api(`${chan()}/invites/${enc(user)}`, { method: 'DELETE' });
    renderInvites(res.invites ?? []);
  } catch (err) {
    showError($('invite-error'), err);
  }
}

async function main() {
  me = await initNav();
  if (!me) {
    location.replace(`/login?next=${encodeURIComponent('/settings')}`);
    return;
  }
  $('view-channel').href = `/c/${enc(me.user.name)}`;
  $('welcome').hidden = !new URLSearchParams(location.search).has('welcome');
  try {
    const c = me.channel ?? await api(chan());
    fillChannel(c);
  } catch (err) {
    showError($('settings-error'), err);
    return;
  }
  $('settings').hidden = false;
  renderCommands();
  api('/media/ingest').then((r) => { ingest = r; renderCommands(); }, () => {});
  api(`${chan()}/invites`).then((r) => renderInvites(r.invites ?? []), (err) => showError($('invite-error'), err));

  $('channel-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      title: $('title').value.trim(),
      description: $('description').value.trim(),
      tags: $('tags').value.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean),
      private: $('private').checked,
    };
    showError($('channel-error'), null);
    $('channel-saved').textContent = '';
    $('save-channel').disabled = true;
    try {
      fillChannel(await api(chan(), { method: 'PATCH', body }));
      $('channel-saved').textContent = 'Saved ✓';
    } catch (err) {
      showError($('channel-error'), err);
    } finally {
      $('save-channel').disabled = false;
    }
  });

  $('invite-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const user = $('invite-name').value.trim().toLowerCase();
    if (!user) return;
    showError($('invite-error'), null);
    try {
      const res = await api(`${chan()}/invites`, { method: 'POST', body: { user } });
      renderInvites(res.invites ?? []);
      $('invite-name').value = '';
    } catch (err) {
      showError($('invite-error'), err);
    }
  });

  for (const b of document.querySelectorAll('[data-reveal]')) {
    b.addEventListener('click', async () => {
      const input = $(b.dataset.reveal);
      try {
        const s = await getSecrets();
        const show = input.type === 'password';
        input.type = show ? 'text' : 'password';
        input.value = show ? s[b.dataset.reveal === 'stream-key' ? 'stream_key' : 'push_token'] : HIDDEN;
        // The stream key has a second reveal button in the OBS instructions; both follow.
        for (const other of document.querySelectorAll(`[data-reveal="${b.dataset.reveal}"]`)) {
          other.textContent = show ? 'Hide' : 'Reveal';
          other.setAttribute('aria-pressed', String(show));
        }
        renderCommands();
      } catch (err) {
        showError($('secrets-error'), err);
      }
    });
  }
  for (const b of document.querySelectorAll('[data-copy]')) {
    b.addEventListener('click', async () => {
      try {
        const s = await getSecrets();
        copyText(s[b.dataset.copy], b.dataset.copy === 'stream_key' ? 'Stream key copied' : 'Push token copied');
      } catch (err) {
        showError($('secrets-error'), err);
      }
    });
  }
  for (const b of document.querySelectorAll('[data-rotate]')) {
    b.addEventListener('click', async () => {
      const what = b.dataset.rotate === 'stream_key' ? 'stream key' : 'push token';
      if (!confirm(`Rotate your ${what}? The old one stops working at once.`)) return;
      try {
        secrets = await api(`${chan()}/secrets/rotate`, { method: 'POST', body: { which: b.dataset.rotate } });
        for (const [id, key] of [['stream-key', 'stream_key'], ['push-token', 'push_token']]) {
          if ($(id).type === 'text') $(id).value = secrets[key];
        }
        renderCommands();
        toast(`New ${what} issued`, 'ok');
      } catch (err) {
        showError($('secrets-error'), err);
      }
    });
  }
  $('record').addEventListener('change', async (e) => {
    const box = e.currentTarget;
    showError($('record-error'), null);
    $('record-saved').textContent = '';
    box.disabled = true;
    try {
      const c = await api(chan(), { method: 'PATCH', body: { record: box.checked } });
      box.checked = Boolean(c.record);
      $('record-saved').textContent = c.record ? 'Recording on ✓' : 'Recording off ✓';
    } catch (err) {
      box.checked = !box.checked;
      showError($('record-error'), err);
    } finally {
      box.disabled = false;
    }
  });

  for (const b of document.querySelectorAll('[data-copy-cmd]')) {
    b.addEventListener('click', async () => {
      // The copied command carries the real secrets even while they are hidden on screen.
      let text = $(b.dataset.copyCmd).textContent;
      try {
        const s = await getSecrets();
        text = text.replace('<push token>', s.push_token).replace('<stream key>', s.stream_key);
      } catch { /* copy with placeholders */ }
      copyText(text, 'Command copied');
    });
  }
}

// body[data-ready] tells tests that the first render is complete.
main().finally(() => { document.body.dataset.ready = 'true'; });
