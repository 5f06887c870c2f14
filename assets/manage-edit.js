// Manage page, edit forms: title, access settings, and the photos (captions, order by drag
// and drop or arrow buttons, remove, add). Every change goes to the API with the key as a
// Bearer header and the page is refreshed from the gallery the API answers.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const status = $('manage-status');
  const list = $('edit-images');
  if (!list) return;
  let gallery = null;
  let key = null;
  let dragged = null;
  const thumbs = new Map(); // index → promise of an object URL, for the current order

  function say(text) {
    status.textContent = text;
  }

  const api = window.maiimgApi;
  const access = window.maiimgAccessForm.bind($('settings-form').querySelector('[data-access-form]'));

  /** Send one change; the page is refreshed from the gallery the API answers. */
  async function call(method, path, body) {
    const answer = await api.call(method, `/api/galleries/${gallery.id}${path}`, { key, body });
    if (!answer.ok) {
      say(answer.status
        ? answer.error || `That did not work (the server answered ${answer.status}).`
        : 'The server could not be reached. Nothing was changed.');
      return null;
    }
    window.maiimgManage.fill(answer.data);
    return answer.data;
  }

  // ---- title and settings

  function fillForms() {
    if (document.activeElement !== $('edit-title')) $('edit-title').value = gallery.title;
    access.fill(gallery.settings);
  }

  $('title-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await call('PATCH', '', { title: $('edit-title').value })) say('Title saved.');
  });

  $('settings-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    let body;
    try {
      body = access.read();
    } catch (problem) {
      say(problem.message);
      if (problem.input) problem.input.focus();
      return;
    }
    if (await call('PATCH', '', body)) say('Access settings saved: viewers get the new rules from now on.');
  });

  // ---- photos

  function loadThumb(index) {
    if (!thumbs.has(index)) thumbs.set(index, api.thumb(gallery.id, index, key));
    return thumbs.get(index);
  }

  function move(from, to) {
    const n = gallery.images.length;
    if (to < 0 || to >= n || from === to) return;
    const order = [...Array(n).keys()];
    order.splice(to, 0, order.splice(from, 1)[0]);
    call('PUT', '/order', { order }).then((json) => {
      if (!json) return;
      say(`Photo moved to position ${to + 1} of ${n}.`);
      // Keep the keyboard where it was: on the same photo's button in its new place.
      const item = list.children[to];
      const again = item && item.querySelector(to < from ? '[data-move=up]' : '[data-move=down]');
      (again && !again.disabled ? again : item && item.querySelector('input')).focus();
    });
  }

  function button(text, label, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'button small';
    b.textContent = text;
    b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    return b;
  }

  function renderImages() {
    const n = gallery.images.length;
    list.replaceChildren(...gallery.images.map((image, index) => {
      const li = document.createElement('li');
      li.className = 'edit-image';
      li.draggable = true;
      li.dataset.index = String(index);
      li.dataset.name = image.name;
      const img = document.createElement('img');
      img.alt = `Photo ${index + 1}: ${image.name}`;
      img.width = 96;
      img.height = 96;
      loadThumb(index).then((url) => { if (url) img.src = url; });
      const caption = document.createElement('input');
      caption.type = 'text';
      caption.maxLength = 500;
      caption.value = image.caption || '';
      caption.placeholder = 'Add a caption';
      caption.setAttribute('aria-label', `Caption of photo ${index + 1} (${image.name})`);
      caption.addEventListener('change', async () => {
        if (await call('PATCH', `/images/${index}`, { caption: caption.value })) say('Caption saved.');
      });
      const tools = document.createElement('div');
      tools.className = 'edit-tools';
      const up = button('↑', `Move photo ${index + 1} up`, () => move(index, index - 1));
      up.dataset.move = 'up';
      up.disabled = index === 0;
      const down = button('↓', `Move photo ${index + 1} down`, () => move(index, index + 1));
      down.dataset.move = 'down';
      down.disabled = index === n - 1;
      const remove = button('Remove', `Remove photo ${index + 1} (${image.name})`, async () => {
        if (n === 1) {
          say('A gallery keeps at least one photo. Delete the gallery instead.');
          return;
        }
        if (!window.confirm(`Remove “${image.name}” from the gallery? Viewers will no longer see it.`)) return;
        if (await call('DELETE', `/images/${index}`)) say(`Photo removed; ${n - 1} left.`);
      });
      remove.dataset.remove = String(index);
      tools.append(up, down, remove);
      li.append(img, caption, tools);
      return li;
    }));
  }

  list.addEventListener('dragstart', (event) => {
    const item = event.target.closest && event.target.closest('li.edit-image');
    if (!item) return;
    dragged = Number(item.dataset.index);
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', item.dataset.index);
    item.classList.add('dragging');
  });
  list.addEventListener('dragover', (event) => {
    if (dragged === null) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
  });
  list.addEventListener('drop', (event) => {
    event.preventDefault();
    const item = event.target.closest && event.target.closest('li.edit-image');
    const from = dragged;
    dragged = null;
    if (item && from !== null) move(from, Number(item.dataset.index));
  });
  list.addEventListener('dragend', () => {
    dragged = null;
    list.querySelectorAll('.dragging').forEach((el) => el.classList.remove('dragging'));
  });

  // Adding photos: each file through /api/uploads (checked and processed on its own, as
  // on the upload page), then all accepted ones into the gallery at once.
  $('add-files').addEventListener('change', async (event) => {
    const picked = [...event.target.files];
    event.target.value = '';
    const motion = window.maiimgFiles.liveMotion(picked);
    const files = picked.filter((f) => !motion.includes(f));
    const note = window.maiimgFiles.motionNote(motion);
    if (!files.length) {
      if (note) say(note);
      return;
    }
    const addStatus = $('add-status');
    const uploads = [];
    const refused = [];
    for (const [i, file] of files.entries()) {
      addStatus.textContent = `Uploading ${i + 1} of ${files.length}: ${file.name}…`;
      const form = new FormData();
      form.append('file', file, file.name);
      const answer = await api.call('POST', '/api/uploads', { body: form });
      if (answer.ok && answer.data) uploads.push(answer.data.upload_id);
      else if (!answer.status) refused.push(`${file.name}: the server could not be reached`);
      else refused.push(`${file.name}: ${answer.error || answer.status}`);
    }
    addStatus.textContent = '';
    if (uploads.length && await call('POST', '/images', { uploads })) {
      say(`${uploads.length} ${uploads.length === 1 ? 'photo' : 'photos'} added.${refused.length ? ` Not added: ${refused.join('; ')}` : ''}${note ? ` ${note}` : ''}`);
    } else if (refused.length) {
      say(`Not added: ${refused.join('; ')}${note ? ` ${note}` : ''}`);
    }
  });

  // The statistics as the statistics page shows them (rendered by the server), refreshed
  // with every change; the statistics page itself updates live.
  async function loadStats() {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    try {
      const response = await api.send('GET', `/api/galleries/${gallery.id}/stats/panel?tz=${encodeURIComponent(tz)}`, { key });
      if (!response.ok) return;
      const panel = $('manage-stats-panel');
      panel.innerHTML = await response.text();
      panel.querySelectorAll('img[data-thumb]').forEach((img) => {
        loadThumb(Number(img.dataset.thumb)).then((url) => { if (url) img.src = url; });
      });
    } catch (_) {
      // The numbers are a convenience here; the page works without them.
    }
  }

  function show(detail) {
    gallery = detail.gallery;
    key = detail.key;
    // Positions change with every edit: fetch the thumbnails again for the new order.
    thumbs.forEach((promise) => promise.then((url) => url && URL.revokeObjectURL(url)));
    thumbs.clear();
    fillForms();
    renderImages();
    loadStats();
  }

  document.addEventListener('maiimg:gallery', (event) => show(event.detail));
  // The gallery may have arrived before this script ran (its file came late): show it now.
  const manage = window.maiimgManage;
  if (manage && manage.last) show(manage.last);
})();
