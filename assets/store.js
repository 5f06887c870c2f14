// The browser's list of galleries it created: the manage keys live only here and with
// the person who saved the manage link.
window.maiimgStore = (() => {
  'use strict';
  const KEY = 'maiimg.galleries';
  const OWNER_KEY = 'maiimg.owner';

  function all() {
    try {
      const list = JSON.parse(localStorage.getItem(KEY) || '[]');
      return Array.isArray(list) ? list : [];
    } catch (_) {
      return [];
    }
  }

  function save(list) {
    try {
      localStorage.setItem(KEY, JSON.stringify(list));
      return true;
    } catch (_) {
      return false; // private mode or storage full: the manage link is still shown
    }
  }

  return {
    all,
    /** The key in a pasted manage link (after `#`), or the pasted key itself. */
    keyFrom(text) {
      const value = text.trim();
      const hash = value.indexOf('#');
      return hash >= 0 ? value.slice(hash + 1) : value;
    },
    get(id) {
      return all().find((g) => g.id === id);
    },
    put(entry) {
      return save([entry, ...all().filter((g) => g.id !== entry.id)]);
    },
    remove(id) {
      return save(all().filter((g) => g.id !== id));
    },
    // The owner key ties this browser's galleries to the other devices of their owner.
    ownerKey() {
      try {
        return localStorage.getItem(OWNER_KEY) || null;
      } catch (_) {
        return null;
      }
    },
    setOwnerKey(key) {
      try {
        if (key) localStorage.setItem(OWNER_KEY, key);
        else localStorage.removeItem(OWNER_KEY);
        return true;
      } catch (_) {
        return false;
      }
    },
  };
})();
