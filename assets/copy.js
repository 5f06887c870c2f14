// Copy buttons: <button data-copy="input-id"> copies that input's value.
(() => {
  'use strict';

  function feedback(button, text) {
    const original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = text;
    button.classList.add('copied');
    setTimeout(() => {
      button.textContent = original;
      button.classList.remove('copied');
    }, 1800);
  }

  function fallbackCopy(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch (_) {
      return false;
    }
  }

  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-copy]');
    if (!button) return;
    const input = document.getElementById(button.dataset.copy);
    if (!input || !input.value) return;
    const done = () => feedback(button, 'Copied ✓');
    const failed = () => {
      if (fallbackCopy(input)) done();
      else feedback(button, 'Press Ctrl+C');
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, failed);
    } else {
      failed();
    }
  });
})();
