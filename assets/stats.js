// Statistics page: the key comes from the URL fragment or this browser's saved galleries
// and goes to the API as a Bearer header. The server renders every fragment; this script
// fetches them, keeps the panel live with long polls, pages the log and downloads reports.
(() => {
  'use strict';

  const main = document.querySelector('main[data-gallery-id]');
  if (!main) return;
  const $ = (id) => document.getElementById(id);
  const id = main.dataset.galleryId;
  const status = $('stats-status');
  const panel = $('stats-panel');
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  let key = null;
  let version = null;
  let cursors = [null]; // the log pages visited, newest first
  const thumbs = new Map();

  const get = (path) => window.maiimgApi.send('GET', path, { key });

  async function thumb(index) {
    if (!thumbs.has(index)) {
      thumbs.set(index, window.maiimgApi.thumb(id, index, key));
    }
    return thumbs.get(index);
  }

  function fillThumbs() {
    panel.querySelectorAll('img[data-thumb]').forEach(async (img) => {
      const url = await thumb(img.dataset.thumb);
      if (url) img.src = url;
    });
  }

  async function loadLog(before) {
    const query = new URLSearchParams({ tz });
    if (before) query.set('before', before);
    const res = await get(`/api/galleries/${id}/log/rows?${query}`);
    if (!res.ok) return;
    const next = res.headers.get('X-Next-Cursor');
    $('log-rows').innerHTML = await res.text();
    $('log-older').disabled = !next;
    $('log-older').dataset.next = next || '';
    $('log-newest').disabled = cursors.length < 2;
  }

  function updated() {
    const time = new Date().toLocaleTimeString();
    status.textContent = `Live · updated ${time}`;
  }

  // One long poll at a time: the server answers when something new was recorded (or
  // after half a minute with the same numbers).
  async function live() {
    for (;;) {
      try {
        const query = new URLSearchParams({ tz });
        if (version !== null) query.set('wait', version);
        const res = await get(`/api/galleries/${id}/stats/panel?${query}`);
        if (res.status === 401 || res.status === 404) {
          status.textContent = res.status === 404
            ? 'This gallery no longer exists.'
            : 'This key does not manage the gallery.';
          return;
        }
        if (!res.ok) throw new Error(String(res.status));
        const next = res.headers.get('X-Stats-Version');
        const html = await res.text();
        if (next !== version) {
          panel.innerHTML = html;
          panel.dataset.version = next;
          fillThumbs();
          if (cursors.length === 1) await loadLog(null);
        }
        version = next;
        updated();
      } catch (_) {
        status.textContent = 'Connection lost; retrying…';
        await new Promise((resolve) => { setTimeout(resolve, 5000); });
      }
    }
  }

  async function download(path, filename, type) {
    const res = await get(path);
    if (!res.ok) {
      status.textContent = 'The download failed; try again.';
      return;
    }
    const blob = new Blob([await res.blob()], { type });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  async function start(candidate) {
    key = candidate;
    const res = await get(`/api/galleries/${id}`);
    if (!res.ok) {
      status.textContent = res.status === 404
        ? 'This gallery does not exist (any more).'
        : 'This key does not manage the gallery.';
      $('key-form').hidden = false;
      return;
    }
    const gallery = await res.json();
    $('stats-heading').textContent = `Statistics · ${gallery.title || 'Untitled gallery'}`;
    $('back-to-manage').href = `/m/${id}#${key}`;
    $('key-form').hidden = true;
    $('log-section').hidden = false;
    live();
  }

  $('log-older').addEventListener('click', () => {
    const next = $('log-older').dataset.next;
    if (!next) return;
    cursors.push(next);
    loadLog(next);
  });
  $('log-newest').addEventListener('click', () => {
    cursors = [null];
    loadLog(null);
  });
  $('export-csv').addEventListener('click', () => download(
    `/api/galleries/${id}/log?format=csv`, `maiimg-${id}-log.csv`, 'text/csv',
  ));
  $('export-json').addEventListener('click', () => download(
    `/api/galleries/${id}/stats`, `maiimg-${id}-stats.json`, 'application/json',
  ));
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    start(window.maiimgStore.keyFrom($('key-input').value));
  });

  const fromHash = location.hash.length > 1 ? location.hash.slice(1) : null;
  const saved = window.maiimgStore && window.maiimgStore.get(id);
  const candidate = fromHash || (saved && saved.key);
  if (candidate) {
    start(candidate);
  } else {
    status.textContent = 'Paste the manage link to see the statistics.';
    $('key-form').hidden = false;
  }
})();
