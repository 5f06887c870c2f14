// My galleries: every gallery this browser saved (manage keys in localStorage) and every
// gallery filed under its owner key, listed through the JSON API with the keys as Bearer
// headers (never in a URL), with batch actions. The owner key and the backup of the keys
// are owner-keys.js.
(() => {
  'use strict';

  const list = document.getElementById('gallery-list');
  if (!list) return;
  const $ = (id) => document.getElementById(id);
  const store = window.maiimgStore;
  const status = $('galleries-status');
  const ID = /^[A-Za-z0-9_-]{16}$/;
  const PARALLEL = 4;

  // A row's state is the gallery's, or one of these when it could not be read.
  const ROW_STATES = {
    deleted: 'Deleted',
    unauthorized: 'Key not accepted',
    unavailable: 'Not loaded',
  };
  const label = (state) => ROW_STATES[state] || window.maiimgApi.stateLabel(state);
  const DONE = { disable: 'disabled', enable: 'enabled', extend: 'new expiry set', delete: 'deleted' };
  const EXPECTED = { disable: 'disabled', enable: 'active', extend: 'active', delete: 'deleted' };

  /** id → {id, key, source: 'browser'|'owner'|'both', state, gallery?, saved?} */
  let rows = new Map();
  const selected = new Set();
  const thumbs = new Map();
  let busy = false;
  // The owner key's panel (owner-keys.js) reloads this list and files its browser-only rows.
  const unfiled = () => [...rows.values()].filter((r) => r.source === 'browser' && r.gallery);
  const owner = window.maiimgOwnerKeys({ status, reload: load, unfiled });

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const titleOf = (row) => (row.gallery && row.gallery.title) || (row.saved && row.saved.title) || 'Untitled gallery';
  const actionable = (row) => Boolean(row.gallery);

  const api = (method, path, key, body) => window.maiimgApi.send(method, path, { key, body });
  const errorText = window.maiimgApi.problem;

  /** The manage API's full gallery, in the owner list's shape. */
  function summary(g) {
    return {
      id: g.id,
      title: g.title,
      created_at: g.created_at,
      state: g.state,
      opens_at: g.opens_at,
      enabled: g.settings.enabled,
      opens: g.counters.opens,
      max_opens: g.settings.max_opens,
      expires_at: g.settings.expires_at,
      images: g.images.length,
      share_url: g.share_url,
    };
  }

  /** Run async tasks, a few at a time. */
  async function pool(tasks) {
    const queue = tasks.slice();
    const worker = async () => {
      while (queue.length) await queue.shift()();
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  }

  async function loadSaved(entry) {
    const row = { id: entry.id, key: entry.key, source: 'browser', saved: entry };
    try {
      const response = await api('GET', `/api/galleries/${entry.id}`, entry.key);
      if (response.status === 200) {
        row.gallery = summary(await response.json());
        row.state = row.gallery.state;
      } else if (response.status === 404) {
        row.state = 'deleted';
      } else if (response.status === 401) {
        row.state = 'unauthorized';
      } else {
        row.state = 'unavailable';
      }
    } catch (_) {
      row.state = 'unavailable';
    }
    return row;
  }

  async function load() {
    status.textContent = 'Loading…';
    const next = new Map();
    let ownerProblem = '';
    const ownerKey = owner.key();
    if (ownerKey) {
      try {
        const response = await api('GET', '/api/owner/galleries', ownerKey);
        if (response.status === 200) {
          for (const g of (await response.json()).galleries) {
            next.set(g.id, { id: g.id, key: ownerKey, source: 'owner', gallery: g, state: g.state });
          }
        } else {
          ownerProblem = `The owner key’s galleries could not be listed (${await errorText(response)}).`;
        }
      } catch (_) {
        ownerProblem = 'The server could not be reached for the owner key’s galleries.';
      }
    }
    const saved = store.all().filter((e) => e && ID.test(e.id) && typeof e.key === 'string' && e.key);
    await pool(saved.map((entry) => async () => {
      const known = next.get(entry.id);
      if (known) {
        // Its own manage key makes the better manage link.
        Object.assign(known, { key: entry.key, source: 'both', saved: entry });
      } else {
        next.set(entry.id, await loadSaved(entry));
      }
    }));
    rows = next;
    for (const id of [...selected]) if (!rows.has(id) || !actionable(rows.get(id))) selected.delete(id);
    render();
    const unloaded = [...rows.values()].filter((r) => r.state === 'unavailable').length;
    status.textContent = [
      ownerProblem,
      unloaded ? `${plural(unloaded, 'gallery', 'galleries')} could not be loaded; reload the page to try again.` : '',
    ].filter(Boolean).join(' ');
    owner.render();
  }

  function thumbnail(row, img) {
    if (!row.gallery || !row.gallery.images) return;
    const cached = thumbs.get(row.id);
    if (cached) {
      img.src = cached;
      return;
    }
    // Viewers' image URLs need a viewer ticket; the owner fetches with the key instead.
    window.maiimgApi.thumb(row.id, 0, row.key).then((url) => {
      if (!url) return;
      thumbs.set(row.id, url);
      img.src = url;
    });
  }

  function meta(row) {
    const g = row.gallery;
    if (!g) {
      if (row.state === 'deleted') return 'This gallery no longer exists on the server.';
      if (row.state === 'unauthorized') return 'The server did not accept this browser’s key for it.';
      return 'It could not be loaded just now.';
    }
    const parts = [plural(g.images, 'photo', 'photos')];
    parts.push(g.max_opens ? `${g.opens} of ${g.max_opens} opens` : plural(g.opens, 'open', 'opens'));
    if (g.expires_at) {
      parts.push(`${new Date(g.expires_at) <= new Date() ? 'expired' : 'expires'} ${when(g.expires_at)}`);
    } else {
      parts.push('never expires');
    }
    if (g.opens_at) parts.push(`opens ${when(g.opens_at)}`);
    parts.push(`created ${when(g.created_at)}`);
    return parts.join(' · ');
  }

  function rowElement(row) {
    const li = element('li', 'gallery-row');
    li.id = `row-${row.id}`;
    li.dataset.id = row.id;
    li.dataset.state = row.state;
    li.dataset.source = row.source;
    const check = element('div', 'row-check');
    const titleId = `title-${row.id}`;
    if (actionable(row)) {
      const box = element('input', 'row-select');
      box.type = 'checkbox';
      box.id = `select-${row.id}`;
      box.checked = selected.has(row.id);
      box.setAttribute('aria-labelledby', titleId);
      box.addEventListener('change', () => {
        if (box.checked) selected.add(row.id);
        else selected.delete(row.id);
        li.classList.toggle('selected', box.checked);
        updateToolbar();
      });
      check.append(box);
      li.classList.toggle('selected', box.checked);
    }
    const thumb = element('div', 'row-thumb');
    const img = element('img');
    img.alt = '';
    thumb.append(img);
    thumbnail(row, img);
    const body = element('div', 'row-body');
    const head = element('div', 'row-head');
    const title = element(actionable(row) ? 'label' : 'span', 'row-title', titleOf(row));
    title.id = titleId;
    if (actionable(row)) title.htmlFor = `select-${row.id}`;
    const badge = element('span', 'state', label(row.state));
    badge.dataset.state = row.state;
    head.append(title, badge);
    const details = element('p', 'row-meta', meta(row));
    body.append(head, details);
    if (row.gallery) {
      const links = element('p', 'row-links');
      const share = element('a', 'row-share', 'Share link');
      share.href = row.gallery.share_url;
      share.target = '_blank';
      share.rel = 'noopener noreferrer';
      share.setAttribute('aria-label', `Share link of ${titleOf(row)}`);
      const manage = element('a', 'row-manage', 'Manage');
      manage.href = `/m/${row.id}#${row.key}`;
      manage.setAttribute('aria-label', `Manage ${titleOf(row)}`);
      links.append(share, manage);
      if (row.source === 'owner') links.append(element('span', 'row-source', 'from your owner key'));
      body.append(links);
    } else if (row.saved && row.state !== 'unavailable') {
      const forget = element('button', 'button small row-forget', 'Forget');
      forget.type = 'button';
      forget.setAttribute('aria-label', `Forget ${titleOf(row)} in this browser`);
      forget.addEventListener('click', () => {
        store.remove(row.id);
        rows.delete(row.id);
        render();
        status.textContent = `${titleOf(row)} was removed from this browser’s list.`;
        $('select-all').focus();
      });
      body.append(forget);
    }
    li.append(check, thumb, body);
    return li;
  }

  function sortKey(row) {
    const created = (row.gallery && row.gallery.created_at) || (row.saved && row.saved.created_at) || '';
    return Date.parse(created) || 0;
  }

  function render() {
    const sorted = [...rows.values()].sort((a, b) => sortKey(b) - sortKey(a) || a.id.localeCompare(b.id));
    list.replaceChildren(...sorted.map(rowElement));
    $('empty-list').hidden = sorted.length > 0;
    $('toolbar').hidden = sorted.length === 0;
    updateToolbar();
  }

  function updateToolbar() {
    const choosable = [...rows.values()].filter(actionable);
    const n = selected.size;
    const all = $('select-all');
    all.checked = n > 0 && n === choosable.length;
    all.indeterminate = n > 0 && n < choosable.length;
    all.disabled = choosable.length === 0;
    $('selected-count').textContent = n ? `${n} of ${choosable.length} selected` : 'None selected';
    for (const button of document.querySelectorAll('#toolbar [data-action]')) button.disabled = busy || n === 0;
    if (n === 0) closeExtend();
  }

  $('select-all').addEventListener('change', (event) => {
    selected.clear();
    if (event.currentTarget.checked) {
      for (const row of rows.values()) if (actionable(row)) selected.add(row.id);
    }
    render();
  });

  function showResults(action, items, results) {
    const ok = results.filter((r) => r.ok).length;
    const verb = DONE[action];
    const panel = element('section', 'panel results');
    panel.setAttribute('aria-labelledby', 'results-heading');
    const heading = element('h3', '', ok === results.length
      ? `Done: ${plural(ok, 'gallery', 'galleries')} ${verb}.`
      : `${ok} of ${results.length} ${verb}; the others were not changed.`);
    heading.id = 'results-heading';
    const outcome = element('ul', 'result-list');
    outcome.id = 'result-list';
    const close = element('button', 'button small', 'Dismiss');
    close.type = 'button';
    close.addEventListener('click', () => {
      $('batch-results').replaceChildren();
      $('select-all').focus();
    });
    const names = new Map(items.map((i) => [i.id, i.title]));
    outcome.replaceChildren(...results.map((r) => {
      const li = element('li', r.ok ? 'ok' : 'failed');
      li.dataset.id = r.id;
      li.dataset.ok = String(r.ok);
      const name = element('strong', '', names.get(r.id) || r.id);
      // Say the state only when it is not what the action implies (enabled, yet expired).
      const plain = r.state === EXPECTED[action];
      const text = r.ok
        ? (plain ? `: ${verb}.` : `: ${verb}; now ${label(r.state).toLowerCase()}.`)
        : `: not changed. ${r.error ? r.error.message : ''}`;
      li.append(name, text);
      return li;
    }));
    panel.append(heading, outcome, close);
    status.textContent = '';
    $('batch-results').replaceChildren(panel);
  }

  async function runBatch(action, extra) {
    const items = [...selected].map((id) => rows.get(id)).filter(Boolean)
      .map((row) => ({ id: row.id, key: row.key, title: titleOf(row) }));
    if (!items.length) return;
    busy = true;
    updateToolbar();
    status.textContent = 'Working…';
    $('batch-results').replaceChildren();
    try {
      const response = await api('POST', '/api/galleries/batch', null, {
        action,
        items: items.map(({ id, key }) => ({ id, key })),
        ...extra,
      });
      if (response.status !== 200) {
        status.textContent = `Nothing was changed: ${await errorText(response)}`;
        return;
      }
      const { results } = await response.json();
      for (const result of results) {
        const row = rows.get(result.id);
        if (!row || !result.ok) continue;
        selected.delete(result.id);
        if (result.state === 'deleted') {
          store.remove(result.id);
          rows.delete(result.id);
          const thumb = thumbs.get(result.id);
          if (thumb) URL.revokeObjectURL(thumb);
          thumbs.delete(result.id);
        } else if (result.gallery) {
          row.gallery = result.gallery;
          row.state = result.state;
        }
      }
      busy = false;
      render();
      showResults(action, items, results);
    } catch (_) {
      status.textContent = 'The server could not be reached; nothing may have changed. Reload to see.';
    } finally {
      busy = false;
      updateToolbar();
      // The button that started it is now disabled (or its form hidden): keep keyboard
      // focus in the toolbar instead of losing it to the page.
      const active = document.activeElement;
      if (!active || active === document.body || active.disabled) $('select-all').focus();
    }
  }

  // Disable and enable are undone with one click: no confirmation.
  $('batch-disable').addEventListener('click', () => runBatch('disable'));
  $('batch-enable').addEventListener('click', () => runBatch('enable'));

  const extendForm = $('extend-form');
  function closeExtend() {
    extendForm.hidden = true;
    $('batch-extend').setAttribute('aria-expanded', 'false');
  }
  $('batch-extend').addEventListener('click', () => {
    const open = extendForm.hidden;
    extendForm.hidden = !open;
    $('batch-extend').setAttribute('aria-expanded', String(open));
    $('extend-error').textContent = '';
    if (open) {
      const tomorrow = new Date(Date.now() + 86400e3);
      const date = $('extend-date');
      date.min = tomorrow.toISOString().slice(0, 10);
      if (!date.value) date.value = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10);
      extendForm.querySelector('input[name=extend]:checked').focus();
    }
  });
  $('extend-cancel').addEventListener('click', () => {
    closeExtend();
    $('batch-extend').focus();
  });
  $('extend-date').addEventListener('input', () => {
    $('extend-on-date').checked = true;
  });
  extendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const choice = extendForm.querySelector('input[name=extend]:checked').value;
    let at;
    if (choice === 'date') {
      const value = $('extend-date').value;
      // The end of that day in this browser's time zone.
      at = value ? new Date(`${value}T23:59:59`) : null;
      if (!at || Number.isNaN(at.getTime()) || at <= new Date()) {
        $('extend-error').textContent = 'Choose a date after today.';
        $('extend-date').focus();
        return;
      }
    } else {
      at = new Date(Date.now() + Number(choice) * 86400e3);
    }
    closeExtend();
    runBatch('extend', { expires_at: at.toISOString().replace(/\.\d{3}Z$/, 'Z') });
  });

  const dialog = $('delete-dialog');
  $('batch-delete').addEventListener('click', () => {
    const chosen = [...selected].map((id) => rows.get(id)).filter(Boolean);
    const n = chosen.length;
    if (!n) return;
    $('delete-heading').textContent = `Delete ${plural(n, 'gallery', 'galleries')} for good?`;
    $('delete-text').textContent = n === 1
      ? 'Its link stops working at once and its photos are removed from the server. This cannot be undone.'
      : 'Their links stop working at once and their photos are removed from the server. This cannot be undone.';
    $('delete-confirm').textContent = `Delete ${plural(n, 'gallery', 'galleries')}`;
    $('delete-names').replaceChildren(...chosen.slice(0, 8).map((row) => element('li', '', titleOf(row))),
      ...(n > 8 ? [element('li', '', `and ${n - 8} more`)] : []));
    dialog.returnValue = '';
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'delete') runBatch('delete');
    else $('batch-delete').focus();
  });

  load();
})();
