// Upload page: each file is sent on its own (one progress bar and one verdict per file),
// then the gallery is created from the files the server accepted.
(() => {
  'use strict';

  const root = document.getElementById('uploader');
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const files = window.maiimgFiles;
  const human = files.human;
  const maxImages = Number(root.dataset.maxImages);
  const maxBytes = Number(root.dataset.maxFileBytes);
  const accepted = root.dataset.accept.split(',');
  const input = $('file-input');
  const dropzone = $('dropzone');
  const list = $('file-list');
  const form = $('upload-form');
  const createButton = $('create-button');
  const createStatus = $('create-status');
  const pickerMessage = $('picker-message');
  const PARALLEL = 3;
  // A 429 or 503 with Retry-After (the server is busy, or this browser has enough uploads
  // in flight) is retried by itself, a few times, after the wait the server asked for;
  // waits longer than MAX_WAIT_S (an hourly rate limit) are left to the Retry button.
  const MAX_WAITS = 5;
  const MAX_WAIT_S = 120;
  // A private instance: every upload and the creation carry the upload password, kept for
  // this tab only (sessionStorage). After a refusal nothing more is sent until it changes,
  // so one wrong password costs a few tries, not one per photo.
  const privateInstance = root.dataset.private === 'true';
  const passwordInput = $('upload-password');
  const PASSWORD_KEY = 'maiimg-upload-password';
  let passwordRefused = false;
  const uploadPassword = () => (passwordInput ? passwordInput.value : '');
  const passwordReady = () => !privateInstance || (uploadPassword() !== '' && !passwordRefused);

  /** @type {{file: File, state: string, uploadId?: string, el: HTMLElement, xhr?: XMLHttpRequest, preview?: string}[]} */
  let items = [];
  let createWhenDone = false;
  let creating = false;
  let nextId = 0;

  const counted = () => items.filter((i) => i.state !== 'error' || i.retryable);
  const pending = (i) => i.state === 'queued' || i.state === 'uploading' || i.state === 'waiting';
  const busy = () => items.some(pending);
  const done = () => items.filter((i) => i.state === 'done');

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function render(item) {
    const li = element('li', 'file');
    li.id = `file-${nextId++}`;
    const thumb = element('div', 'file-thumb');
    const img = element('img');
    img.alt = '';
    img.decoding = 'async';
    // A file the browser cannot preview shows an empty tile, not a broken-image icon.
    img.addEventListener('error', () => img.removeAttribute('src'));
    thumb.append(img);
    const body = element('div', 'file-body');
    const name = element('div', 'file-name', item.file.name || 'image');
    const size = element('div', 'file-size', human(item.file.size));
    const progress = element('progress');
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute('aria-label', `Upload of ${item.file.name}`);
    const status = element('div', 'file-status');
    status.setAttribute('role', 'status');
    body.append(name, size, progress, status);
    const actions = element('div', 'file-actions');
    const retry = element('button', 'button small retry', 'Retry');
    retry.type = 'button';
    retry.hidden = true;
    retry.setAttribute('aria-label', `Retry ${item.file.name}`);
    const remove = element('button', 'button small remove', 'Remove');
    remove.type = 'button';
    remove.setAttribute('aria-label', `Remove ${item.file.name}`);
    actions.append(retry, remove);
    li.append(thumb, body, actions);
    retry.addEventListener('click', () => {
      item.waits = 0;
      setState(item, 'queued', 'Waiting…');
      pump();
    });
    remove.addEventListener('click', () => removeItem(item));
    item.el = li;
    item.parts = { img, progress, status, retry, remove };
    list.append(li);
    if (item.state !== 'error' && item.file.size < 40e6) {
      item.preview = URL.createObjectURL(item.file);
      img.src = item.preview;
    }
  }

  function setState(item, state, message) {
    item.state = state;
    item.el.dataset.state = state;
    item.parts.status.textContent = message;
    item.parts.retry.hidden = !(state === 'error' && item.retryable);
    if (state === 'queued') item.parts.progress.value = 0;
    if (state === 'done') item.parts.progress.value = 100;
    update();
  }

  function removeItem(item) {
    if (item.xhr) item.xhr.abort();
    clearInterval(item.timer);
    if (item.preview) URL.revokeObjectURL(item.preview);
    const index = items.indexOf(item);
    items = items.filter((i) => i !== item);
    item.el.remove();
    // Keep keyboard focus in the list rather than dropping it on <body>.
    const next = items[index] || items[index - 1];
    (next ? next.parts.remove : input).focus();
    update();
    pump();
  }

  function check(file) {
    if (file.type && !accepted.includes(file.type)) {
      const kind = file.type.split('/')[1] || file.type;
      return `${kind.toUpperCase()} is not accepted. Use ${root.dataset.formats}.`;
    }
    if (file.size === 0) return 'This file is empty.';
    if (file.size > maxBytes) return `Too large (${human(file.size)}); the limit is ${human(maxBytes)}.`;
    return null;
  }

  function addFiles(picked) {
    const batch = Array.from(picked);
    const motion = files.liveMotion(batch, items.map((i) => i.file));
    let skipped = 0;
    for (const file of batch) {
      if (motion.includes(file)) continue;
      if (counted().length >= maxImages) {
        skipped++;
        continue;
      }
      const item = { file, state: 'queued' };
      const problem = check(file);
      render(item);
      items.push(item);
      if (problem) setState(item, 'error', problem);
      else setState(item, 'queued', 'Waiting…');
    }
    const notes = [files.motionNote(motion)];
    if (skipped) {
      notes.push(`A gallery holds at most ${maxImages} photos: ${skipped} ${skipped === 1 ? 'file was' : 'files were'} not added.`);
    }
    pickerMessage.textContent = notes.filter(Boolean).join(' ');
    pump();
  }

  function pump() {
    if (!passwordReady()) {
      if (items.some((i) => i.state === 'queued')) {
        pickerMessage.textContent = passwordRefused
          ? 'Check the upload password: the photos are sent once it is right.'
          : 'Enter the upload password: the photos are sent as soon as it is there.';
        if (passwordInput) passwordInput.focus();
      }
      return;
    }
    const running = items.filter((i) => i.state === 'uploading').length;
    const waiting = items.filter((i) => i.state === 'queued');
    for (const item of waiting.slice(0, Math.max(0, PARALLEL - running))) upload(item);
    if (!busy() && createWhenDone) create();
  }

  /** The Retry-After of a refusal the page should wait out by itself, in seconds, or null. */
  function waitFor(xhr, item) {
    if (xhr.status !== 429 && xhr.status !== 503) return null;
    const seconds = Number(xhr.getResponseHeader('Retry-After'));
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_WAIT_S) return null;
    if ((item.waits || 0) >= MAX_WAITS) return null;
    return Math.max(1, Math.ceil(seconds));
  }

  /** Show the wait, counting down, then queue the file again. */
  function waitThenRetry(item, seconds) {
    item.waits = (item.waits || 0) + 1;
    let left = seconds;
    const say = () => `The server is busy; trying again in ${left} s (attempt ${item.waits + 1} of ${MAX_WAITS + 1})…`;
    setState(item, 'waiting', say());
    item.timer = setInterval(() => {
      left -= 1;
      if (left > 0) {
        item.parts.status.textContent = say();
        return;
      }
      clearInterval(item.timer);
      if (items.includes(item)) {
        setState(item, 'queued', 'Waiting…');
        pump();
      }
    }, 1000);
  }

  function upload(item) {
    setState(item, 'uploading', 'Uploading…');
    const data = new FormData();
    data.append('file', item.file, item.file.name);
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    xhr.open('POST', '/api/uploads');
    if (privateInstance) xhr.setRequestHeader('X-Upload-Password', uploadPassword());
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) item.parts.progress.value = Math.min(99, (e.loaded / e.total) * 100);
    });
    xhr.upload.addEventListener('load', () => {
      item.parts.progress.value = 99;
      item.parts.status.textContent = 'Processing…';
    });
    xhr.addEventListener('load', () => {
      item.xhr = null;
      const body = xhr.response || {};
      if (xhr.status === 201 && body.upload_id) {
        item.uploadId = body.upload_id;
        item.parts.img.src = body.thumb_url;
        item.parts.img.alt = `Preview of ${item.file.name}`;
        if (item.preview) URL.revokeObjectURL(item.preview);
        const animated = body.animated ? ' · animated' : '';
        setState(item, 'done', `Ready · ${body.width}×${body.height} ${body.format.toUpperCase()}${animated}`);
      } else if (waitFor(xhr, item) !== null) {
        waitThenRetry(item, waitFor(xhr, item));
      } else {
        const message = (body.error && body.error.message) || `The server answered ${xhr.status}.`;
        const code = body.error && body.error.code;
        // 5xx and timeouts may pass on a second try, and so may a rate limit, a full
        // disk or a password problem; a refused file will not.
        item.retryable = xhr.status >= 500 || xhr.status === 0 || xhr.status === 429 || xhr.status === 401;
        if (code === 'upload_password_required' || code === 'upload_password_wrong') {
          passwordRefused = true;
          item.passwordProblem = true;
        }
        setState(item, 'error', message);
      }
      pump();
    });
    xhr.addEventListener('error', () => {
      item.xhr = null;
      item.retryable = true;
      setState(item, 'error', 'The upload was interrupted. Check the connection and retry.');
      pump();
    });
    xhr.send(data);
  }

  function update() {
    const ready = done().length;
    const waiting = items.filter(pending).length;
    createButton.disabled = creating || (ready === 0 && waiting === 0);
    dropzone.classList.toggle('has-files', items.length > 0);
    if (creating) return;
    if (createWhenDone && waiting) {
      createStatus.textContent = `The gallery is created as soon as ${waiting} more ${waiting === 1 ? 'photo is' : 'photos are'} uploaded.`;
    } else if (items.length) {
      createStatus.textContent = `${ready} of ${counted().length} ready.`;
    } else {
      createStatus.textContent = '';
    }
  }

  const access = window.maiimgAccessForm.bind(root.querySelector('[data-access-form]'));

  async function create() {
    createWhenDone = false;
    const uploads = done().map((i) => i.uploadId);
    if (!uploads.length) {
      createStatus.textContent = 'Add at least one photo the server accepted.';
      return;
    }
    let settings;
    try {
      settings = access.read();
    } catch (problem) {
      createStatus.textContent = `The gallery was not created: ${problem.message}`;
      $('options').open = true;
      if (problem.input) problem.input.focus();
      return;
    }
    creating = true;
    update();
    createStatus.textContent = 'Creating the gallery…';
    const request = { title: $('title-input').value, uploads, settings };
    // With an owner key in this browser, the new gallery is filed under it at once.
    const owner = window.maiimgStore.ownerKey();
    if (owner) request.owner_key = owner;
    const headers = privateInstance ? { 'X-Upload-Password': uploadPassword() } : {};
    const answer = await window.maiimgApi.call('POST', '/api/galleries', { headers, body: request });
    creating = false;
    if (answer.status === 201) {
      showResult(answer.data);
    } else {
      const why = answer.error || (answer.status ? `The server answered ${answer.status}.` : 'The server could not be reached.');
      createStatus.textContent = `The gallery was not created: ${why}`;
    }
    update();
  }

  function showResult(gallery) {
    const path = `/g/${gallery.id}`;
    $('share-url').value = gallery.share_url;
    $('manage-url').value = gallery.manage_url;
    $('open-share').href = gallery.share_url;
    // Same-origin paths: the page's CSP allows images from here only.
    $('qr-image').src = `${path}/qr.png`;
    $('qr-png').href = `${path}/qr.png`;
    $('qr-png').setAttribute('download', `maiimg-${gallery.id}-qr.png`);
    $('qr-svg').href = `${path}/qr.svg`;
    $('qr-svg').setAttribute('download', `maiimg-${gallery.id}-qr.svg`);
    window.maiimgStore.put({
      id: gallery.id,
      key: gallery.manage_key,
      title: $('title-input').value.trim(),
      created_at: new Date().toISOString(),
      share_url: gallery.share_url,
      manage_url: gallery.manage_url,
      count: gallery.images.length,
    });
    root.hidden = true;
    const result = $('result');
    result.hidden = false;
    result.dataset.galleryId = gallery.id;
    $('result-heading').focus();
  }

  if (passwordInput) {
    try {
      passwordInput.value = sessionStorage.getItem(PASSWORD_KEY) || '';
    } catch (_) {
      // Storage may be off; the field still works for this page.
    }
    passwordInput.addEventListener('change', () => {
      try {
        sessionStorage.setItem(PASSWORD_KEY, passwordInput.value);
      } catch (_) {
        // As above.
      }
      passwordRefused = false;
      pickerMessage.textContent = '';
      for (const item of items) {
        if (item.state === 'error' && item.passwordProblem) {
          item.passwordProblem = false;
          setState(item, 'queued', 'Waiting…');
        }
      }
      pump();
    });
  }

  input.addEventListener('change', () => {
    addFiles(input.files);
    input.value = '';
  });

  // Dropping anywhere on the page works; the drop zone lights up while dragging.
  let depth = 0;
  window.addEventListener('dragenter', (e) => {
    if (!e.dataTransfer || !Array.from(e.dataTransfer.types).includes('Files')) return;
    depth++;
    dropzone.classList.add('dragging');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dropzone.classList.remove('dragging');
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    dropzone.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files.length && !root.hidden) addFiles(e.dataTransfer.files);
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (creating) return;
    if (busy()) {
      createWhenDone = true;
      update();
    } else {
      create();
    }
  });

  $('start-over').addEventListener('click', () => {
    window.location.assign('/');
  });

  update();
})();
