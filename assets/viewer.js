// Gallery lightbox: click a thumbnail, step with arrows, buttons or a swipe, Esc closes.
// Without JavaScript each thumbnail is a plain link to the large image.
(() => {
  'use strict';

  const tiles = Array.from(document.querySelectorAll('#grid .tile'));

  // Downloads off: discourage saving (a screenshot still works, and the owner is told so).
  if (document.querySelector('main[data-downloads="off"]')) {
    const isImage = (event) => event.target instanceof HTMLImageElement;
    document.addEventListener('contextmenu', (event) => { if (isImage(event)) event.preventDefault(); });
    document.addEventListener('dragstart', (event) => { if (isImage(event)) event.preventDefault(); });
  }
  const dialog = document.getElementById('lightbox');
  if (!tiles.length || !dialog || typeof dialog.showModal !== 'function') return;
  const image = document.getElementById('lb-image');
  const counter = document.getElementById('lb-counter');
  const count = tiles.length;
  let current = 0;

  function preload(index) {
    const tile = tiles[(index + count) % count];
    const img = new Image();
    img.decoding = 'async';
    img.src = tile.href;
  }

  // Tell the owner's statistics which images were looked at: once per image and page
  // load (the server also keeps one per viewer and day). The ticket cookie goes along.
  const seenUrl = `${location.pathname.replace(/\/$/, '')}/seen/`;
  const reported = new Set();
  function report(index) {
    if (reported.has(index) || typeof navigator.sendBeacon !== 'function') return;
    reported.add(index);
    navigator.sendBeacon(seenUrl + index);
  }

  function show(index) {
    current = (index + count) % count;
    report(current);
    const tile = tiles[current];
    image.width = Number(tile.dataset.width);
    image.height = Number(tile.dataset.height);
    image.src = tile.href;
    image.alt = tile.querySelector('img').alt;
    counter.textContent = `${current + 1} / ${count}`;
    document.getElementById('lb-caption').textContent = tile.dataset.caption || '';
    const download = document.getElementById('lb-download');
    if (download && tile.dataset.original) download.href = tile.dataset.original;
    dialog.dataset.index = String(current);
    if (count > 1) {
      preload(current + 1);
      preload(current - 1);
    }
  }

  function open(index) {
    show(index);
    if (!dialog.open) dialog.showModal();
    document.getElementById('lb-next').focus();
  }

  tiles.forEach((tile, index) => {
    tile.addEventListener('click', (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      open(index);
    });
  });

  document.getElementById('lb-next').addEventListener('click', () => show(current + 1));
  document.getElementById('lb-prev').addEventListener('click', () => show(current - 1));
  document.getElementById('lb-close').addEventListener('click', () => dialog.close());
  dialog.querySelector('.lb-prev').hidden = count < 2;
  dialog.querySelector('.lb-next').hidden = count < 2;

  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowRight') {
      event.preventDefault();
      show(current + 1);
    } else if (event.key === 'ArrowLeft') {
      event.preventDefault();
      show(current - 1);
    } else if (event.key === 'Home') {
      show(0);
    } else if (event.key === 'End') {
      show(count - 1);
    }
  });

  // A click on the dark backdrop (the dialog itself, not its content) closes.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });

  dialog.addEventListener('close', () => {
    image.removeAttribute('src');
    tiles[current].focus();
  });

  // Swipe: a mostly horizontal drag of 40 px or more steps through the photos.
  let start = null;
  dialog.addEventListener('pointerdown', (event) => {
    start = { x: event.clientX, y: event.clientY };
  });
  dialog.addEventListener('pointerup', (event) => {
    if (!start) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    if (Math.abs(dx) >= 40 && Math.abs(dx) > Math.abs(dy) * 1.5) show(current + (dx < 0 ? 1 : -1));
  });
  dialog.addEventListener('pointercancel', () => {
    start = null;
  });
})();
