// The access settings form (views/access_form.rs), the same on the upload and the manage
// page: read into the API's settings, filled from a gallery's, checked before sending so a
// mistake is named next to its field instead of coming back as the server's refusal.
// Fields are found by data-field, not id: the two pages' ids differ.
window.maiimgAccessForm = (() => {
  'use strict';

  const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

  /** A datetime-local value (this browser's time) for an instant, or ''. */
  function localInput(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  // datetime-local is this browser's local time; the API wants an absolute instant.
  const instant = (value) => (value ? new Date(value).toISOString() : null);

  function knownZone(name) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: name });
      return true;
    } catch (_) {
      return false;
    }
  }

  /** A problem with one field: the message to show and the field to focus. */
  class Problem extends Error {
    constructor(message, input) {
      super(message);
      this.input = input;
    }
  }

  function bind(root) {
    const field = (name) => root.querySelector(`[data-field=${name}]`);
    const dayBoxes = () => [...field('days').querySelectorAll('input[type=checkbox]')];
    const never = field('never');
    const expiresAt = field('expires_at');
    const zone = field('timezone');

    root.querySelectorAll('[data-browser-zone]').forEach((el) => { el.textContent = browserZone(); });
    // The upload page proposes this browser's zone; the manage page fills in the gallery's.
    if (!zone.value) zone.value = browserZone();
    // The zone list is only offered once the field is used: building it costs a little.
    zone.addEventListener('focus', () => {
      const list = document.getElementById(zone.getAttribute('list'));
      if (list.children.length || !Intl.supportedValuesOf) return;
      list.replaceChildren(...Intl.supportedValuesOf('timeZone').map((name) => {
        const option = document.createElement('option');
        option.value = name;
        return option;
      }));
    }, { once: true });
    if (never) never.addEventListener('change', () => { expiresAt.disabled = never.checked; });

    /** Put a gallery's settings (the manage API's `settings`) into the form. */
    function fill(s) {
      field('max_opens').value = s.max_opens || '';
      field('allow_download').checked = s.allow_download;
      const password = field('password');
      password.value = '';
      password.placeholder = s.password ? 'Leave empty to keep the password' : 'No password';
      const clear = field('password_clear');
      if (clear) {
        clear.checked = false;
        clear.disabled = !s.password;
      }
      if (expiresAt) {
        expiresAt.value = localInput(s.expires_at);
        never.checked = !s.expires_at;
        expiresAt.disabled = !s.expires_at;
      }
      field('available_from').value = localInput(s.available_from);
      field('available_until').value = localInput(s.available_until);
      field('daily_from').value = s.daily_from || '';
      field('daily_until').value = s.daily_until || '';
      const days = s.daily_from && s.days ? s.days.split(',') : [];
      dayBoxes().forEach((box) => { box.checked = days.includes(box.value); });
      zone.value = s.timezone;
    }

    /** The form as the API's settings; throws a Problem naming the field if it is unusable. */
    function read() {
      const value = (name) => field(name).value.trim();
      const settings = {};

      const limit = field('max_opens');
      if (limit.validity.badInput || (value('max_opens') && !/^[1-9]\d*$/.test(value('max_opens')))) {
        throw new Problem('The view limit must be a whole number from 1 (or empty for no limit).', limit);
      }
      settings.max_opens = value('max_opens') ? Number(value('max_opens')) : null;
      settings.allow_download = field('allow_download').checked;

      const password = field('password').value;
      if (password && [...password].length < 4) {
        throw new Problem('The password needs at least 4 characters.', field('password'));
      }
      const clear = field('password_clear');
      if (password) settings.password = password;
      else if (clear && clear.checked) settings.password = null;

      if (field('expires_in')) {
        if (value('expires_in')) settings.expires_in = value('expires_in');
      } else if (never.checked) {
        settings.expires_at = null;
      } else if (!expiresAt.value) {
        throw new Problem('Choose when the link expires, or tick “Never expires”.', expiresAt);
      } else {
        settings.expires_at = instant(expiresAt.value);
      }

      settings.available_from = instant(value('available_from'));
      settings.available_until = instant(value('available_until'));
      if (settings.available_from && settings.available_until && settings.available_until <= settings.available_from) {
        throw new Problem('The closing time must come after the opening time.', field('available_until'));
      }

      const from = value('daily_from');
      const until = value('daily_until');
      if (Boolean(from) !== Boolean(until)) {
        throw new Problem('Give both the start and the end of the daily hours (or neither).', field(from ? 'daily_until' : 'daily_from'));
      }
      if (from && from === until) {
        throw new Problem('The daily hours must end at another time than they start.', field('daily_until'));
      }
      settings.daily_from = from || null;
      settings.daily_until = until || null;
      // No day ticked means every day: the API reads an empty list so.
      const days = dayBoxes().filter((box) => box.checked).map((box) => box.value);
      settings.days = from && days.length ? days.join(',') : null;

      const name = zone.value.trim();
      if (!name) throw new Problem('Choose a time zone, such as Europe/Berlin.', zone);
      if (!knownZone(name)) throw new Problem(`“${name}” is not a time zone; use one such as Europe/Berlin.`, zone);
      settings.timezone = name;
      return settings;
    }

    return { fill, read };
  }

  return { bind };
})();
