// My galleries, the owner key and the backup: create, enter, use from a link (asked
// first), file this browser's galleries under it, forget it; export and import the keys.
// The list itself (galleries.js) hands in how to reload it and which rows are unfiled.
window.maiimgOwnerKeys = (list) => {
  'use strict';

  const { status, reload, unfiled: unfiledRows } = list;
  const $ = (id) => document.getElementById(id);
  const store = window.maiimgStore;
  const api = (method, path, key, body) => window.maiimgApi.send(method, path, { key, body });
  const errorText = window.maiimgApi.problem;
  const ID = /^[A-Za-z0-9_-]{16}$/;
  const KEY = /^[A-Za-z0-9_-]{32}$/;
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  let ownerKey = store.ownerKey();

  /** The key in what was pasted: the key itself, or an owner link carrying it. */
  function keyFrom(text) {
    const value = text.trim();
    const marker = value.indexOf('owner=');
    if (marker >= 0) return value.slice(marker + 6).split(/[&\s]/)[0];
    const hash = value.lastIndexOf('#');
    return hash >= 0 ? value.slice(hash + 1) : value;
  }

  const ownerUrl = (key) => `${location.origin}/galleries#owner=${key}`;
  let qrFor = null;

  async function render() {
    $('owner-none').hidden = Boolean(ownerKey);
    $('owner-current').hidden = !ownerKey;
    if (!ownerKey) return;
    $('owner-key').value = ownerKey;
    const unfiled = unfiledRows();
    $('owner-unfiled').hidden = unfiled.length === 0;
    $('owner-file').textContent = `File ${plural(unfiled.length, 'gallery', 'galleries')} of this browser under this key`;
    if (qrFor === ownerKey) return;
    qrFor = ownerKey;
    try {
      // The link holds the key: POSTed, so that it never appears in a URL or a server log.
      const response = await api('POST', '/api/qr', null, { text: ownerUrl(ownerKey) });
      if (response.ok) {
        const img = $('owner-qr');
        if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
        img.src = URL.createObjectURL(await response.blob());
      }
    } catch (_) {
      qrFor = null;
    }
  }

  /** File these browser rows under the owner key; returns how many were filed. */
  async function fileUnder(key, entries) {
    if (!entries.length) return 0;
    const response = await api('POST', '/api/owner/galleries', key, {
      items: entries.map((e) => ({ id: e.id, key: e.key })),
    });
    if (response.status !== 200) throw new Error(await errorText(response));
    const { results } = await response.json();
    return results.filter((r) => r.ok).length;
  }

  function useKey(key) {
    ownerKey = key;
    store.setOwnerKey(key);
    qrFor = null;
  }

  $('owner-create').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    status.textContent = 'Creating an owner key…';
    try {
      const response = await api('POST', '/api/owner');
      if (response.status !== 200) throw new Error(await errorText(response));
      const { owner_key: key } = await response.json();
      useKey(key);
      const saved = store.all().filter((e) => e && ID.test(e.id) && e.key);
      const filed = await fileUnder(key, saved);
      await reload();
      status.textContent = `Your owner key is ready${filed ? `; ${plural(filed, 'gallery', 'galleries')} of this browser are filed under it` : ''}. Keep a copy of it.`;
      $('owner-key').focus();
      $('owner-key').select();
    } catch (error) {
      status.textContent = `No owner key was created: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });

  async function tryKey(key) {
    if (!KEY.test(key)) {
      status.textContent = 'That is not an owner key: it has 32 letters, digits, “-” and “_”.';
      return false;
    }
    const response = await api('GET', '/api/owner/galleries', key);
    if (response.status !== 200) {
      status.textContent = `That owner key was not accepted: ${await errorText(response)}`;
      return false;
    }
    const { galleries } = await response.json();
    useKey(key);
    $('owner-input').value = '';
    await reload();
    status.textContent = galleries.length
      ? `Using the owner key: ${plural(galleries.length, 'gallery', 'galleries')} filed under it.`
      : 'Using the owner key. No gallery is filed under it yet: check the key if you expected some.';
    return true;
  }

  $('owner-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      if (!(await tryKey(keyFrom($('owner-input').value)))) $('owner-input').focus();
    } catch (_) {
      status.textContent = 'The server could not be reached. Try again.';
    }
  });

  $('owner-file').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    const unfiled = unfiledRows();
    button.disabled = true;
    try {
      const filed = await fileUnder(ownerKey, unfiled);
      await reload();
      status.textContent = `${plural(filed, 'gallery', 'galleries')} filed under your owner key.`;
    } catch (error) {
      status.textContent = `Nothing was filed: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });

  $('owner-forget').addEventListener('click', async () => {
    if (!window.confirm('Forget the owner key in this browser? Galleries filed under it stay on the server, but this browser lists only its own until you enter the key again. Make sure you have a copy.')) return;
    useKey(null);
    await reload();
    status.textContent = 'This browser no longer uses an owner key.';
    $('owner-create').focus();
  });

  // An owner link (from the QR code) carries the key in the fragment. Using it is asked
  // first: a planted key would file this browser's new galleries under someone else's key.
  function offerFromLink() {
    const match = /(?:^#|&)owner=([A-Za-z0-9_-]{32})(?:&|$)/.exec(location.hash);
    if (!match) return;
    history.replaceState(null, '', location.pathname);
    const key = match[1];
    if (key === ownerKey) return;
    $('owner-offer-text').textContent = ownerKey
      ? 'This link carries a different owner key. Use it instead of this browser’s? Its galleries will be listed here and new galleries from this browser will be filed under it. Keep a copy of the current key first.'
      : 'This link carries an owner key. Use it in this browser? Its galleries will be listed here and new galleries from this browser will be filed under it.';
    const offer = $('owner-offer');
    offer.hidden = false;
    offer.dataset.key = key;
    $('owner-offer-accept').focus();
  }
  $('owner-offer-accept').addEventListener('click', async () => {
    const offer = $('owner-offer');
    offer.hidden = true;
    try {
      await tryKey(offer.dataset.key);
    } catch (_) {
      status.textContent = 'The server could not be reached. Try again.';
    }
    delete offer.dataset.key;
  });
  $('owner-offer-decline').addEventListener('click', () => {
    const offer = $('owner-offer');
    offer.hidden = true;
    delete offer.dataset.key;
    status.textContent = 'The owner key in the link was ignored.';
  });

  // Backup of the keys.

  $('export-keys').addEventListener('click', () => {
    const data = {
      format: 'maiimg-keys',
      version: 1,
      exported_at: new Date().toISOString(),
      origin: location.origin,
      owner_key: ownerKey,
      galleries: store.all(),
    };
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `maiimg-keys-${new Date().toISOString().slice(0, 10)}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60e3);
    $('keys-status').textContent = `Downloaded the keys of ${plural(data.galleries.length, 'gallery', 'galleries')}${ownerKey ? ' and the owner key' : ''}.`;
  });

  $('import-button').addEventListener('click', () => $('import-file').click());
  $('import-file').addEventListener('change', async (event) => {
    const input = event.currentTarget;
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    const report = $('keys-status');
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch (_) {
      report.textContent = `${file.name} is not a key file (it is not JSON).`;
      return;
    }
    const entries = Array.isArray(data) ? data : (data && Array.isArray(data.galleries) ? data.galleries : null);
    if (!entries) {
      report.textContent = `${file.name} is not a key file from maiimg.`;
      return;
    }
    let added = 0;
    let known = 0;
    let skipped = 0;
    for (const e of entries) {
      if (!e || !ID.test(e.id) || typeof e.key !== 'string' || !KEY.test(e.key)) {
        skipped++;
      } else if (store.get(e.id)) {
        known++;
      } else {
        const { id, key, title, share_url: share, manage_url: manage, created_at: created } = e;
        store.put({ id, key, title: typeof title === 'string' ? title : '', share_url: share, manage_url: manage, created_at: created });
        added++;
      }
    }
    const notes = [`Imported ${plural(added, 'gallery', 'galleries')}`];
    if (known) notes.push(`${known} ${known === 1 ? 'was' : 'were'} already here`);
    if (skipped) notes.push(`${skipped} unreadable ${skipped === 1 ? 'entry was' : 'entries were'} skipped`);
    let ownerNote = '';
    const fileOwner = data && typeof data.owner_key === 'string' && KEY.test(data.owner_key) ? data.owner_key : null;
    if (fileOwner && !ownerKey) {
      useKey(fileOwner);
      ownerNote = ' The owner key was imported too.';
    } else if (fileOwner && fileOwner !== ownerKey) {
      ownerNote = ' The file’s owner key differs from this browser’s, which was kept: enter the other one to switch.';
    }
    await reload();
    report.textContent = `${notes.join('; ')}.${ownerNote}`;
  });

  offerFromLink();
  window.addEventListener('hashchange', offerFromLink);
  // The key in use: kept here as well, so it works for this page when storage is off.
  return { key: () => ownerKey, render };
};
