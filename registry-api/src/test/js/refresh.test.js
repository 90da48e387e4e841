// node --test registry-api/src/test/js (UiScriptsTest runs it in the Maven build)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { nextDelay, createPoller } = require('../../main/resources/static/ui/refresh.js');

test('the delay doubles while nothing changes and on failures, up to the maximum', () => {
  assert.equal(nextDelay(5000, 30000, 0, 0), 5000);
  assert.equal(nextDelay(5000, 30000, 1, 0), 10000);
  assert.equal(nextDelay(5000, 30000, 2, 0), 20000);
  assert.equal(nextDelay(5000, 30000, 3, 0), 30000);
  assert.equal(nextDelay(5000, 30000, 500, 0), 30000);
  // failures decide while there are any, however long the page was quiet before
  assert.equal(nextDelay(5000, 30000, 0, 1), 10000);
  assert.equal(nextDelay(5000, 30000, 4, 1), 10000);
  assert.equal(nextDelay(5000, 30000, 0, 9), 30000);
  // a maximum below the base never polls faster than the base
  assert.equal(nextDelay(5000, 1000, 3, 0), 5000);
});

/** A clock whose timers run only when the test advances it, and a page whose visibility the test sets. */
function fixture(answers) {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  const page = { visible: true, alive: true, loads: 0, results: [] };
  const clock = {
    now: () => now,
    setTimeout: (fn, ms) => { const id = nextId++; timers.set(id, { fn, at: now + ms }); return id; },
    clearTimeout: id => timers.delete(id),
  };
  const poller = createPoller({
    baseMs: 100, maxMs: 800, clock,
    isVisible: () => page.visible, isAlive: () => page.alive,
    load: async () => {
      const a = answers[Math.min(page.loads, answers.length - 1)];
      page.loads++;
      if (a instanceof Error) throw a;
      return a;
    },
    onResult: r => page.results.push(r),
  });
  /** Runs the timers due within ms, in order, letting each poll's promise settle. */
  async function advance(ms) {
    const end = now + ms;
    for (;;) {
      await new Promise(r => setImmediate(r));
      const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = end;
    await new Promise(r => setImmediate(r));
  }
  return { page, poller, advance, pending: () => timers.size };
}

test('a quiet page backs off and comes back to the base pace when something changes', async () => {
  const { page, poller, advance } = fixture([false, false, false, false, true, false]);
  poller.start();
  await advance(0);
  assert.equal(page.loads, 1);
  assert.equal(poller.state().nextMs, 200); // one unchanged answer
  await advance(199);
  assert.equal(page.loads, 1);
  await advance(1);
  assert.equal(page.loads, 2); // at 200
  await advance(400);
  assert.equal(page.loads, 3); // at 600
  await advance(800);
  assert.equal(page.loads, 4); // at 1400: capped at 800
  await advance(800);
  assert.equal(page.loads, 5); // this one changed
  assert.equal(page.results.at(-1).changed, true);
  assert.equal(poller.state().nextMs, 100);
  await advance(100);
  assert.equal(page.loads, 6);
});

test('a hidden tab makes no requests and polls at once when shown again', async () => {
  const { page, poller, advance, pending } = fixture([false]);
  poller.start();
  await advance(0);
  assert.equal(page.loads, 1);
  page.visible = false;
  poller.visibilityChanged();
  assert.equal(pending(), 0);
  await advance(60000);
  assert.equal(page.loads, 1);
  page.visible = true;
  poller.visibilityChanged();
  await advance(0);
  assert.equal(page.loads, 2);
  assert.equal(poller.state().scheduled, true);
});

test('a page opened in a background tab waits until it is shown', async () => {
  const { page, poller, advance } = fixture([false]);
  page.visible = false;
  poller.start();
  await advance(5000);
  assert.equal(page.loads, 0);
  page.visible = true;
  poller.visibilityChanged();
  await advance(0);
  assert.equal(page.loads, 1);
});

test('failures are reported, back off, and the first success resets them', async () => {
  const down = new Error('Failed to fetch');
  const { page, poller, advance } = fixture([down, down, down, true, false]);
  poller.start();
  await advance(0);
  assert.equal(page.results[0].ok, false);
  assert.equal(page.results[0].error, down);
  assert.equal(page.results[0].nextMs, 200);
  await advance(200);
  assert.equal(page.results[1].nextMs, 400);
  await advance(400);
  assert.equal(page.results[2].nextMs, 800);
  await advance(800);
  assert.equal(page.loads, 4);
  assert.deepEqual([page.results[3].ok, page.results[3].changed, page.results[3].nextMs], [true, true, 100]);
  assert.equal(poller.state().failures, 0);
});

test('a poke polls now at the base pace, and polls never overlap', async () => {
  let release;
  let loads = 0;
  const timers = [];
  const poller = createPoller({
    baseMs: 100, maxMs: 800,
    clock: { now: () => 0, setTimeout: (fn) => { timers.push(fn); return timers.length; }, clearTimeout: () => {} },
    isVisible: () => true, isAlive: () => true,
    load: () => { loads++; return new Promise(r => { release = r; }); },
  });
  poller.start();
  assert.equal(loads, 1);
  poller.poke(); // while the first is in flight: remembered, not a second request
  poller.poke();
  assert.equal(loads, 1);
  release(false);
  await new Promise(r => setImmediate(r));
  assert.equal(loads, 2); // the remembered poke, right after
  release(false);
  await new Promise(r => setImmediate(r));
  assert.equal(loads, 2);
});

test('a page the user left stops polling', async () => {
  const { page, poller, advance, pending } = fixture([false]);
  poller.start();
  await advance(0);
  page.alive = false;
  await advance(10000);
  assert.equal(page.loads, 1);
  assert.equal(pending(), 0);
  assert.equal(poller.state().stopped, true);
  page.visible = true;
  poller.visibilityChanged();
  await advance(0);
  assert.equal(page.loads, 1);
});

test('a page that has just loaded its data polls first one interval later', async () => {
  const { page, poller, advance } = fixture([false]);
  poller.start(true);
  await advance(99);
  assert.equal(page.loads, 0);
  await advance(1);
  assert.equal(page.loads, 1);
});
