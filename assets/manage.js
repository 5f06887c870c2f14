// Manage page: the key comes from the URL fragment (never sent to the server in a URL)
// or from this browser's saved galleries, and goes to the API as a Bearer header.
(() => {
  'use strict';

  const main = document.querySelector('main[data-gallery-id]');
  if (!main) return;
  const $ = (id) => document.getElementById(id);
  const id = main.dataset.galleryId;
  const status = $('manage-status');
  const form = $('key-form');
  const panel = $('manage-panel');
  let key = null;

  // The owner's actions on this gallery: `action` is '', 'enable', 'disable'.
  const api = (method, action) => window.maiimgApi.send(method, `/api/galleries/${id}${action ? `/${action}` : ''}`, { key });

  function when(iso, timezone) {
    return new Date(iso).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short', timeZone: timezone });
  }

  /** The access rules in words, for the owner. */
  function rules(gallery) {
    const s = gallery.settings;
    const list = [];
    list.push(s.expires_at ? `Expires ${when(s.expires_at, s.timezone)}.` : 'Never expires.');
    if (s.max_opens) list.push(`Opens at most ${s.max_opens} times (by different viewers).`);
    if (s.password) list.push('Password protected.');
    list.push(s.allow_download ? 'Viewers may download the originals.' : 'No downloads: viewers see the photos only (screenshots remain possible).');
    if (s.available_from) list.push(`Opens ${when(s.available_from, s.timezone)}.`);
    if (s.available_until) list.push(`Closes ${when(s.available_until, s.timezone)}.`);
    if (s.daily_from) list.push(`Daily ${s.daily_from}–${s.daily_until} on ${s.days.split(',').join(', ')} (${s.timezone} time).`);
    if (gallery.opens_at) list.push(`Next opens ${when(gallery.opens_at, s.timezone)}.`);
    return list;
  }

  const human = window.maiimgFiles.human;

  function fill(gallery) {
    $('manage-title').textContent = gallery.title || 'Untitled gallery';
    const created = new Date(gallery.created_at).toLocaleString();
    const n = gallery.images.length;
    const opens = gallery.counters.opens;
    const limit = gallery.settings.max_opens ? ` of ${gallery.settings.max_opens}` : '';
    $('manage-meta').textContent = `${n} ${n === 1 ? 'photo' : 'photos'} · ${opens}${limit} ${opens === 1 && !limit ? 'open' : 'opens'} · ${human(gallery.bytes)} · created ${created}`;
    const state = $('manage-state');
    state.dataset.state = gallery.state;
    state.textContent = window.maiimgApi.stateLabel(gallery.state);
    const toggle = $('toggle-enabled');
    toggle.textContent = gallery.settings.enabled ? 'Disable link' : 'Enable link';
    // Taken down by the administrator: only they can switch it on again.
    toggle.disabled = gallery.taken_down;
    if (gallery.taken_down) status.textContent = 'The administrator of this server switched this gallery off. It cannot be switched on again here.';
    toggle.dataset.enabled = String(gallery.settings.enabled);
    $('manage-rules').replaceChildren(...rules(gallery).map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }));
    $('share-url').value = gallery.share_url;
    $('stats-link').href = `/m/${id}/stats#${key}`;
    $('poster-key').value = key;
    $('open-share').href = gallery.share_url;
    $('qr-image').src = `/g/${id}/qr.png`;
    $('qr-png').href = `/g/${id}/qr.png`;
    $('qr-svg').href = `/g/${id}/qr.svg`;
    // Kept for a script that runs after this event (deferred scripts may run after the
    // gallery arrived when the page's assets are slow), and announced to those already there.
    window.maiimgManage.last = { gallery, key };
    document.dispatchEvent(new CustomEvent('maiimg:gallery', { detail: { gallery, key } }));
  }

  // The edit forms (manage-edit.js) refresh the page with the gallery each change returns.
  window.maiimgManage = { fill, last: null };

  async function load() {
    status.textContent = 'Checking the manage key…';
    let response;
    try {
      response = await api('GET');
    } catch (_) {
      status.textContent = 'The server could not be reached. Try again.';
      return;
    }
    if (response.status === 200) {
      const gallery = await response.json();
      // Opened with the owner key (from My galleries): that key is saved once, not per gallery.
      const ownerKey = window.maiimgStore.ownerKey ? window.maiimgStore.ownerKey() : null;
      if (key !== ownerKey) {
        const saved = window.maiimgStore.get(id) || {};
        window.maiimgStore.put({ ...saved, id, key, title: gallery.title, share_url: gallery.share_url, manage_url: `${location.origin}/m/${id}#${key}` });
      }
      fill(gallery);
      status.textContent = '';
      form.hidden = true;
      panel.hidden = false;
    } else {
      status.textContent = response.status === 401
        ? 'This manage key does not match this gallery. Paste the manage link you were given.'
        : 'This gallery could not be loaded.';
      form.hidden = false;
      panel.hidden = true;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    key = window.maiimgStore.keyFrom($('key-input').value);
    history.replaceState(null, '', `#${key}`);
    load();
  });

  $('toggle-enabled').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const action = button.dataset.enabled === 'true' ? 'disable' : 'enable';
      const response = await api('POST', action);
      if (response.status === 200) {
        fill(await response.json());
        status.textContent = action === 'disable' ? 'The link is off: viewers now see a “switched off” page.' : 'The link works again.';
      } else {
        status.textContent = `That did not work (the server answered ${response.status}).`;
      }
    } catch (_) {
      status.textContent = 'The server could not be reached. Try again.';
    } finally {
      button.disabled = false;
    }
  });

  $('delete-button').addEventListener('click', async () => {
    if (!window.confirm('Delete this gallery and all its photos for good? The link stops working at once.')) return;
    const response = await api('DELETE');
    if (response.status === 204) {
      window.maiimgStore.remove(id);
      panel.hidden = true;
      status.textContent = 'The gallery was deleted. Its link no longer works.';
      history.replaceState(null, '', location.pathname);
    } else {
      status.textContent = `The gallery was not deleted (the server answered ${response.status}).`;
    }
  });

  const fromHash = location.hash.length > 1 ? decodeURIComponent(location.hash.slice(1)) : null;
  const saved = window.maiimgStore.get(id);
  key = fromHash || (saved && saved.key) || null;
  if (key) {
    load();
  } else {
    status.textContent = 'Enter the manage link to manage this gallery.';
    form.hidden = false;
  }
})();
