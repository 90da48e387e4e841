// ANE Forge registry UI: when a page that stays open asks the registry again. No DOM and no real timers (the
// clock and the page's visibility are passed in), so node's test runner can check the schedule
// (registry-api/src/test/js); the page gets it as window.AneForgeRefresh.
'use strict';

(function (exports) {
  /**
   * Milliseconds until the next poll: {@code baseMs} after an answer that changed something, doubling with each
   * answer in a row that changed nothing ({@code unchanged}) and with each failure in a row ({@code failures}, which
   * take precedence), never more than {@code maxMs}. Agents report results minutes to hours after a conversion,
   * so a quiet page slows down; a change brings it back to {@code baseMs} at once.
   */
  function nextDelay(baseMs, maxMs, unchanged, failures) {
    const steps = Math.min(30, failures > 0 ? failures : unchanged);
    return Math.max(baseMs, Math.min(maxMs, baseMs * Math.pow(2, steps)));
  }

  /**
   * Polls with {@code load} (resolves to true when the answer changed, false when not; rejects when the
   * registry could not be asked) while {@code isAlive()} (the page is still shown) and only while
   * {@code isVisible()} (the tab is in front): a hidden tab makes no requests, and {@link visibilityChanged}
   * polls at once when it is shown again. One poll at a time. {@code onResult} gets
   * {@code {ok, changed, error, at, nextMs}} after each poll, for the page's "updated … / unreachable" line.
   *
   * @param clock {@code {now, setTimeout, clearTimeout}}; the page passes Date.now and window's timers
   */
  function createPoller({ load, baseMs, maxMs, clock, isVisible, isAlive, onResult }) {
    let unchanged = 0;
    let failures = 0;
    let timer = null;
    let inFlight = false;
    let again = false;
    let stopped = false;

    function clear() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    }

    function alive() {
      if (!stopped && !isAlive()) stop();
      return !stopped;
    }

    function delay() { return nextDelay(baseMs, maxMs, unchanged, failures); }

    function schedule() {
      clear();
      if (!alive() || !isVisible()) return;
      timer = clock.setTimeout(() => { timer = null; poll(); }, delay());
    }

    async function poll() {
      if (!alive()) return;
      if (inFlight) { again = true; return; }
      clear();
      inFlight = true;
      let result;
      try {
        const changed = await load();
        failures = 0;
        unchanged = changed ? 0 : unchanged + 1;
        result = { ok: true, changed: !!changed, error: null };
      } catch (e) {
        failures++;
        result = { ok: false, changed: false, error: e };
      }
      inFlight = false;
      if (!alive()) return;
      result.at = clock.now();
      result.nextMs = isVisible() ? delay() : null;
      if (onResult) onResult(result);
      if (again) {
        again = false;
        if (isVisible()) { poll(); return; }
      }
      schedule();
    }

    /** The tab was hidden or shown: stop the timer, or poll at once and go on from there. */
    function visibilityChanged() {
      if (!alive()) return;
      if (isVisible()) poll();
      else clear();
    }

    /** Something else saw a change coming (a live conversion's poll): poll now, at the base pace again. */
    function poke() {
      unchanged = 0;
      if (alive() && isVisible()) poll();
    }

    function stop() {
      stopped = true;
      clear();
    }

    return {
      /** Polls now, or with {@code waitFirst} one base interval from now (the page has just loaded its data). */
      start: (waitFirst) => {
        if (waitFirst) schedule();
        else if (isVisible()) poll();
      },
      visibilityChanged, poke, stop,
      /** For tests: what the poller would do next. */
      state: () => ({ unchanged, failures, scheduled: timer !== null, inFlight, stopped, nextMs: delay() }),
    };
  }

  Object.assign(exports, { nextDelay, createPoller });
})(typeof module === 'object' && module.exports ? module.exports : (globalThis.AneForgeRefresh = {}));
