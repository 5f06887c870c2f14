// Poster page: a Print button (the page prints without it too).
(() => {
  'use strict';
  const button = document.getElementById('print-poster');
  if (button) button.addEventListener('click', () => window.print());
})();
