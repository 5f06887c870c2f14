// The JSON API as every page calls it. Keys travel only as Bearer headers (never in a URL),
// answers are never cached (they change with every edit), and an error is the server's own
// message when it sent one. Also the one set of words for a gallery's state.
window.maiimgApi = (() => {
  'use strict';

  // `state` in the API's answers (domain/access.rs, owner_state).
  const STATES = {
    active: 'Active',
    disabled: 'Disabled',
    expired: 'Expired',
    scheduled: 'Scheduled',
    'outside-hours': 'Outside its hours',
    exhausted: 'View limit reached',
  };

  /**
   * fetch with the key (if any) as a Bearer header; `body` is sent as JSON unless it is
   * FormData. Rejects only when the server cannot be reached.
   */
  function send(method, path, { key, body, headers = {}, cache = 'no-store' } = {}) {
    const all = { ...headers };
    if (key) all.Authorization = `Bearer ${key}`;
    const form = typeof FormData !== 'undefined' && body instanceof FormData;
    if (body !== undefined && !form) all['Content-Type'] = 'application/json';
    return fetch(path, {
      method,
      headers: all,
      cache,
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  }

  /** The server's message in a refusal, or a sentence with its status. */
  async function problem(response) {
    const json = await response.json().catch(() => null);
    return (json && json.error && json.error.message) || `the server answered ${response.status}`;
  }

  /**
   * send, then the JSON answer: {ok, status, data, error}. `error` is the server's message
   * (null if it sent none); status 0 means the server could not be reached.
   */
  async function call(method, path, options) {
    let response;
    try {
      response = await send(method, path, options);
    } catch (_) {
      return { ok: false, status: 0, data: null, error: null };
    }
    const data = await response.json().catch(() => null);
    const error = response.ok ? null : (data && data.error && data.error.message) || null;
    return { ok: response.ok, status: response.status, data: response.ok ? data : null, error };
  }

  /** An owner's thumbnail as an object URL, or null. Viewers' image URLs need a ticket. */
  function thumb(id, index, key) {
    return send('GET', `/api/galleries/${id}/i/${index}/thumb`, { key, cache: 'default' })
      .then((r) => (r.ok ? r.blob() : null))
      .then((blob) => (blob ? URL.createObjectURL(blob) : null))
      .catch(() => null);
  }

  const stateLabel = (state) => STATES[state] || state;

  return { send, call, problem, thumb, stateLabel };
})();
