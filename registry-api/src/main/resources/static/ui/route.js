// ANE Forge registry UI: which page an address (location.hash) names. Pure (no DOM), so node's test runner
// can check it (registry-api/src/test/js); the page gets it as window.AneForgeRoute.
'use strict';

(function (exports) {
  const NUMBER = /^[1-9][0-9]*$/;
  const EXAMPLE = 'as in #/m/<model>/v/2';

  /** A version number from the address, or the message that says what is wrong with it. */
  function versionNumber(text, what) {
    if (NUMBER.test(text)) {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return { n };
    }
    return { error: what + " '" + text + "' is not a version number: versions are whole numbers from 1 (" + EXAMPLE + ')' };
  }

  /**
   * The page {@code hash} names: {page: 'login' | 'home'}, {page: 'model', name}, {page: 'version', name, version,
   * baseline (a number or null)}, or {page: 'error', message} for an address no page has or that cannot be read.
   */
  function parseRoute(hash) {
    const h = !hash || hash === '#' ? '#/' : hash;
    const body = h.charAt(0) === '#' ? h.substring(1) : h;
    const q = body.indexOf('?');
    const path = q < 0 ? body : body.substring(0, q);
    const params = new URLSearchParams(q < 0 ? '' : body.substring(q + 1));
    const raw = path.split('/').filter(Boolean);
    const parts = [];
    for (const segment of raw) {
      try {
        parts.push(decodeURIComponent(segment));
      } catch (e) {
        return { page: 'error', message: "The address " + h + " cannot be read: '" + segment
            + "' is not valid percent-encoding (% must be followed by two hex digits of UTF-8). Go back to the models list." };
      }
    }
    if (parts.length === 1 && parts[0] === 'login') return { page: 'login' };
    if (parts.length === 0) return { page: 'home' };
    if (parts[0] === 'm' && parts.length === 2) return { page: 'model', name: parts[1] };
    if (parts[0] === 'm' && parts[2] === 'v' && parts.length === 4) {
      const version = versionNumber(parts[3], 'version');
      if (version.error) return { page: 'error', message: version.error };
      let baseline = null;
      const b = params.get('baseline');
      if (b !== null && b !== '') {
        const parsed = versionNumber(b, 'baseline');
        if (parsed.error) return { page: 'error', message: parsed.error };
        baseline = parsed.n;
      }
      return { page: 'version', name: parts[1], version: version.n, baseline };
    }
    return { page: 'error', message: 'No page at ' + h + '. Pages are #/ (models), #/m/<model> and #/m/<model>/v/<version>.' };
  }

  Object.assign(exports, { parseRoute });
})(typeof module === 'object' && module.exports ? module.exports : (globalThis.AneForgeRoute = {}));
