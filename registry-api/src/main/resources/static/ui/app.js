// ANE Forge registry UI: plain JavaScript, no dependencies. Every number comes from /api/v1 with the
// token the user entered (kept in sessionStorage, so it is gone when the tab closes).
'use strict';

const TOKEN_KEY = 'aneforge.token';
// How often live pages poll; tests set this key in sessionStorage to poll faster.
const REFRESH_KEY = 'aneforge.refreshMs';
// The longest pause of the polling of pages that stay open (the version page's matrix, the home page's
// conversions) once nothing changes (or the registry is down).
const REFRESH_MAX_KEY = 'aneforge.refreshMaxMs';
const app = document.getElementById('app');
const details = document.getElementById('details');
const { fmtMs, fmtCos, fmtBytes, pct, cosChange, regressionLabel, latencyLimit, cosineLimit, gatesLabel, sourceLabel, clip, cellSummary, fidelityWhere } = window.AneForgeFormat;
const { parseRoute } = window.AneForgeRoute;
const { createPoller } = window.AneForgeRefresh;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.substring(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces el's children, skipping null, undefined and false (replaceChildren would print them as text). */
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined && c !== false));
  return el;
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem || {};
  }
}

async function api(path, options) {
  const res = await request(path, options);
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch (e) { /* not JSON */ }
    throw new ApiError(res.status, problem);
  }
  if (options && options.raw) return res;
  return res.status === 204 ? null : res.json();
}

/** The fetch behind api(): adds the token, sends {@code json} as the body; a 401 goes back to the login page. */
async function request(path, options) {
  const opts = Object.assign({ method: 'GET', headers: {} }, options || {});
  opts.headers = Object.assign({ 'Authorization': 'Bearer ' + token() }, opts.headers);
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch('/api/v1' + path, opts);
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = '#/login';
    throw new ApiError(401, { detail: 'token rejected; log in again' });
  }
  return res;
}

/**
 * A GET that names the answer it already has ({@code etag}): resolves to {@code {changed: false}} on the
 * registry's 304, else to {@code {changed: true, etag, body}}. The browser's own cache is bypassed, so the 304
 * reaches the page (which then leaves the DOM alone) instead of being turned into a copy of the old 200.
 */
async function apiIfChanged(path, etag) {
  const res = await request(path, { cache: 'no-store', headers: etag ? { 'If-None-Match': etag } : {} });
  if (res.status === 304) return { changed: false };
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch (e) { /* not JSON */ }
    throw new ApiError(res.status, problem);
  }
  return { changed: true, etag: res.headers.get('ETag'), body: await res.json() };
}

async function download(path, filename, accept) {
  const res = await api(path, { raw: true, headers: accept ? { 'Accept': accept } : {} });
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function setCrumbs(parts) {
  const nav = document.getElementById('crumbs');
  nav.replaceChildren(...parts.map(([label, href]) => h('a', { href }, label)));
  const s = document.getElementById('session');
  s.replaceChildren(token() ? h('span', {}, 'token set',
    h('button', { class: 'secondary', id: 'logout', onclick: () => { sessionStorage.removeItem(TOKEN_KEY); location.hash = '#/login'; } }, 'Log out')) : '');
}

function showError(message) {
  fill(app, h('p', { class: 'error', id: 'error' }, message), h('p', {}, h('a', { href: '#/' }, 'Models')));
}

/** The cell details panel sits beside the page: main makes room for it (body.details-open) instead of being covered. */
function closeDetails() {
  details.hidden = true;
  document.body.classList.remove('details-open');
  document.querySelectorAll('td.cell.selected').forEach(e => e.classList.remove('selected'));
  selection = null;
}

/** The open cell details' variant label and compute units, so a refreshed matrix keeps showing them. */
let selection = null;

// ---- pages ---------------------------------------------------------------------------------

/**
 * Counts route() calls: a page that awaited the API renders only if no other page was asked for meanwhile
 * (a slow answer for an old address must not replace the page the user went to next).
 */
let routeSeq = 0;

function loginPage() {
  setCrumbs([]);
  const input = h('input', { type: 'password', id: 'token', placeholder: 'af_… or the admin token', size: 40, autocomplete: 'off' });
  const msg = h('p', { class: 'error', id: 'login-error' });
  const form = h('form', { class: 'panel login', id: 'login', onsubmit: async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      await api('/models');
      location.hash = '#/';
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      msg.textContent = e.status === 401 ? 'That token is unknown or revoked.' : e.message;
    }
  } },
    h('h1', {}, 'Log in'),
    h('p', { class: 'muted' }, 'Paste an API token (any role can read; promotion needs publisher, overrides need admin). It is kept in this tab only.'),
    h('div', { class: 'inline' }, input, ' ', h('button', { type: 'submit', id: 'login-button' }, 'Log in')),
    msg);
  fill(app, form);
  input.focus();
}

async function homePage(seq) {
  setCrumbs([['Models', '#/']]);
  const [models, agents] = await Promise.all([api('/models'), api('/agents')]);
  if (seq !== routeSeq) return;
  const online = agents.filter(a => a.state === 'online');
  fill(app,
    h('h1', {}, 'Models'),
    models.length === 0 ? h('p', { class: 'muted' }, 'No models yet.') :
      h('table', { id: 'models' },
        h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Task'), h('th', {}, 'Owner'), h('th', {}, 'Description')),
        models.map(m => h('tr', {}, h('td', {}, h('a', { href: '#/m/' + encodeURIComponent(m.name) }, m.name)),
          h('td', {}, m.task), h('td', {}, m.owner), h('td', {}, m.description)))),
    h('h2', {}, 'Agents (' + online.length + ' online of ' + agents.length + ')'),
    agents.length === 0 ? h('p', { class: 'muted' }, 'No agent has registered.') :
      h('table', { id: 'agents' },
        h('tr', {}, h('th', {}, 'Host'), h('th', {}, 'State'), h('th', {}, 'Chip'), h('th', {}, 'OS'), h('th', {}, 'Runtimes'), h('th', {}, 'Last seen')),
        agents.map(a => h('tr', { 'data-state': a.state }, h('td', {}, a.hostName), h('td', {}, a.state), h('td', {}, a.chip || '–'),
          h('td', {}, a.osName + ' ' + a.osVersion + ' (' + a.osBuild + ')'), h('td', {}, (a.runtimes || []).join(', ')),
          h('td', {}, a.lastSeenAt)))),
    conversionsPanel());
}

// ---- conversions ---------------------------------------------------------------------------

const LIVE_CONVERSION = ['queued', 'running'];

function refreshMs() {
  const ms = Number(sessionStorage.getItem(REFRESH_KEY));
  return Number.isFinite(ms) && ms >= 100 ? ms : 5000;
}

/**
 * Runs load() now and again every refreshMs() while it reports live work and el is still on the page. A failed
 * load shows its message in el under {@code label} and ends the polling (a reload starts it again).
 */
function refreshWhileLive(el, label, load) {
  (async function tick() {
    let live = false;
    try {
      live = await load();
    } catch (e) {
      if (el.isConnected) {
        el.hidden = false;
        fill(el, h('p', { class: 'error' }, label + ': ' + e.message));
      }
    }
    if (live && el.isConnected) setTimeout(() => { if (el.isConnected) tick(); }, refreshMs());
  })();
}

/**
 * Polls load() (see createPoller: resolves to whether the answer changed) for as long as el is on the page, only
 * while the tab is in front: every refreshMs() while answers change, doubling the pause up to
 * aneforge.refreshMaxMs (30 s) while they do not or the registry cannot be reached. onResult gets each poll's
 * outcome. Returns the poller; start it once el is on the page (a poller whose element is not connected stops).
 */
function pollWhileShown(el, load, onResult) {
  const maxMs = Number(sessionStorage.getItem(REFRESH_MAX_KEY));
  const poller = createPoller({
    baseMs: refreshMs(),
    maxMs: Number.isFinite(maxMs) && maxMs >= 100 ? maxMs : 30000,
    clock: { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: id => clearTimeout(id) },
    isVisible: () => document.visibilityState === 'visible',
    isAlive: () => el.isConnected,
    load,
    onResult,
  });
  const onVisibility = () => {
    if (!el.isConnected) document.removeEventListener('visibilitychange', onVisibility);
    else poller.visibilityChanged();
  };
  document.addEventListener('visibilitychange', onVisibility);
  return poller;
}

/**
 * The newest conversions (live and finished). The panel stays current while the page is open: every 5 s while
 * any is queued or running or the list changed, slowing down to every 30 s while nothing changes, so a
 * conversion published meanwhile (by a CI job, another user) shows up without a reload. A failed poll shows
 * its message above the last list and is retried the same way.
 */
function conversionsPanel() {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { class: 'muted', id: 'conversions-status', 'data-state': 'ok' });
  const panel = h('section', { id: 'conversions-panel' }, h('h2', {}, 'Conversions'), status, body);
  let shown = null;
  const poller = pollWhileShown(panel, async () => {
    const rows = await api('/conversions?state=all&limit=20');
    if (!panel.isConnected) return false;
    const live = rows.some(c => LIVE_CONVERSION.includes(c.state));
    const key = JSON.stringify(rows);
    const changed = key !== shown;
    if (changed) {
      shown = key;
      fill(body, rows.length === 0 ? h('p', { class: 'muted' }, 'No conversions yet.') :
        h('table', { id: 'conversions' },
          h('tr', {}, h('th', {}, 'Model'), h('th', {}, 'Version'), h('th', {}, 'State'), h('th', {}, 'Step'),
            h('th', {}, 'Variants done'), h('th', {}, 'Error'), h('th', {}, 'Updated')),
          rows.map(c => h('tr', { 'data-state': c.state, 'data-id': c.id },
            h('td', {}, h('a', { href: '#/m/' + encodeURIComponent(c.model) }, c.model)),
            h('td', {}, h('a', { href: '#/m/' + encodeURIComponent(c.model) + '/v/' + c.version }, 'v' + c.version)),
            h('td', {}, h('span', { class: 'badge conv-' + c.state }, c.state),
              c.state === 'running' && c.leaseOwner ? h('div', { class: 'muted' }, c.leaseOwner) : null),
            h('td', {}, c.step || '–'),
            h('td', { class: 'variants' }, c.variantsDone + ' / ' + c.variantsTotal,
              c.variantsFailed ? h('span', { class: 'error' }, ' (' + c.variantsFailed + ' failed)') : null),
            h('td', { class: 'error' }, c.error || ''),
            h('td', {}, c.updatedAt)))),
        h('p', { class: 'muted' }, 'Newest 20.'));
    }
    // while a conversion is live the next change is near: keep the base pace even after an unchanged answer
    return changed || live;
  }, r => {
    if (r.ok) {
      status.className = 'muted';
      status.setAttribute('data-state', 'ok');
      fill(status);
    } else {
      // the last list stays below the error, which says when the next try is
      status.className = 'error';
      status.setAttribute('data-state', 'error');
      fill(status, 'Conversions: cannot reach the registry (' + r.error.message + ')' + (shown === null ? '' : '; showing the last list')
        + ' · retrying in ' + (r.nextMs === null ? 'when the tab is shown' : Math.round(r.nextMs / 100) / 10 + ' s'));
    }
  });
  // the caller puts the panel on the page right after this returns: poll once it is there
  setTimeout(() => poller.start(false), 0);
  return panel;
}

/**
 * Shows a version's conversion in panel; returns whether it is still live. Hidden when the version has
 * none (uploaded directly, or published without chips).
 */
async function loadConversion(panel, name, version) {
  let c;
  try {
    c = await api('/models/' + encodeURIComponent(name) + '/versions/' + version + '/conversion');
  } catch (e) {
    if (e.status === 404) return false;
    throw e;
  }
  if (!panel.isConnected) return false;
  const done = c.variants.filter(v => v.state === 'registered').length;
  const failed = c.variants.filter(v => v.state === 'failed');
  panel.hidden = false;
  panel.setAttribute('data-state', c.state);
  fill(panel, h('strong', {}, 'Conversion: '), h('span', { class: 'badge conv-' + c.state }, c.state),
    ' step ' + (c.step || '–') + ' · variants ' + done + ' / ' + c.variants.length + ' · updated ' + c.updatedAt,
    c.error ? h('p', { class: 'error' }, c.error) : null,
    failed.length ? h('ul', { class: 'reasons' }, failed.map(v => h('li', {}, v.specId + ': ' + (v.error || 'failed')))) : null);
  return LIVE_CONVERSION.includes(c.state);
}

async function modelPage(seq, name, notice) {
  setCrumbs([['Models', '#/'], [name, '#/m/' + encodeURIComponent(name)]]);
  const [model, versions, gates, aliases] = await Promise.all([
    api('/models/' + encodeURIComponent(name)), api('/models/' + encodeURIComponent(name) + '/versions'),
    api('/models/' + encodeURIComponent(name) + '/gates'), api('/models/' + encodeURIComponent(name) + '/aliases')]);
  if (seq !== routeSeq) return;
  fill(app,
    h('h1', {}, model.name), h('p', { class: 'muted' }, model.task + (model.description ? ' — ' + model.description : '')),
    notice ? h('p', { class: 'notice', id: 'notice' }, notice) : null,
    h('div', { class: 'panel', id: 'gates' }, h('strong', {}, 'Release gates: '),
      gates.set ? gatesLabel(gates.gates) : 'none: nothing is checked (the matrix shows NO_GATES)'),
    aliasesPanel(name, aliases),
    h('table', { id: 'versions' },
      h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Status'), h('th', {}, 'Aliases'), h('th', {}, 'Source'), h('th', {}, 'Created'), h('th', {}, '')),
      versions.slice().reverse().map(v => h('tr', { 'data-version': v.version },
        h('td', {}, h('a', { href: '#/m/' + encodeURIComponent(name) + '/v/' + v.version }, 'v' + v.version)),
        h('td', {}, v.status + (v.yankReason ? ' (' + v.yankReason + ')' : '')),
        h('td', { class: 'aliases' }, (v.aliases || []).join(', ')),
        h('td', { class: 'source', 'data-type': v.source ? v.source.type : '' }, sourceLabel(v.source)),
        h('td', {}, v.createdAt),
        h('td', {}, h('a', { href: '#/m/' + encodeURIComponent(name) + '/v/' + v.version }, 'matrix'))))));
}

/** A refusal as the registry wrote it: the problem's title and detail, and its request id for the registry's logs. */
function problemText(e) {
  const p = e.problem || {};
  return (p.title ? p.title + ': ' : '') + e.message + (p.requestId ? ' (request id ' + p.requestId + ')' : '');
}

/**
 * What resolve answers per alias, each with a Delete button. Deleting asks first (the alias, what resolve answers
 * afterwards, a reason for the alias history) and then calls DELETE .../aliases/{alias}; a refusal is shown with
 * the registry's own words.
 */
function aliasesPanel(name, aliases) {
  const base = '/models/' + encodeURIComponent(name) + '/aliases/';
  const confirmBox = h('div', { id: 'alias-confirm', hidden: true });
  function askDelete(a) {
    const reason = h('input', { type: 'text', id: 'alias-delete-reason', placeholder: 'why (kept in the alias history)', size: 40 });
    const out = h('div', { id: 'alias-delete-result' });
    async function remove() {
      fill(out);
      // the page this delete was asked on: if the user has gone elsewhere by the time it answers, stay there
      const asked = routeSeq;
      try {
        await api(base + encodeURIComponent(a.alias), { method: 'DELETE', json: { reason: reason.value } });
        if (asked !== routeSeq) return;
        const seq = ++routeSeq;
        await modelPage(seq, name, 'Alias ' + a.alias + ' deleted: resolve now answers alias-not-set for it.');
      } catch (e) {
        fill(out, h('p', { class: 'error', id: 'alias-error', 'data-status': e.status }, problemText(e)));
      }
    }
    confirmBox.hidden = false;
    fill(confirmBox, h('div', { class: 'panel' },
      h('strong', {}, 'Delete alias ' + a.alias + ' (→ v' + a.version + ')?'),
      h('p', { class: 'muted' }, 'Resolve then answers alias-not-set for ' + a.alias + ' until it is set again; the deletion is recorded in the alias history.'),
      h('div', { class: 'inline' }, 'Reason ', reason,
        h('button', { class: 'danger', id: 'alias-delete-confirm', onclick: remove }, 'Delete ' + a.alias),
        h('button', { class: 'secondary', id: 'alias-delete-cancel', onclick: () => { confirmBox.hidden = true; fill(confirmBox); } }, 'Cancel')),
      out));
    reason.focus();
  }
  return h('div', { class: 'panel', id: 'aliases' }, h('strong', {}, 'Aliases: '),
    aliases.length ? h('table', { id: 'alias-table' }, aliases.map(a => h('tr', { 'data-alias': a.alias },
      h('td', {}, a.alias + ' → ', h('a', { href: '#/m/' + encodeURIComponent(name) + '/v/' + a.version }, 'v' + a.version)),
      h('td', { class: 'muted' }, 'by ' + a.updatedBy + ', ' + a.updatedAt),
      h('td', {}, h('button', { class: 'secondary', 'data-delete-alias': a.alias, onclick: () => askDelete(a) }, 'Delete'))))) : 'none',
    confirmBox);
}

// ---- the matrix of a version ---------------------------------------------------------------

function cellView(row, cu, c, m) {
  if (!c) return h('td', { class: 'cell none', 'data-variant': row.cell, 'data-cu': cu, 'data-source': 'none' }, '—');
  const s = cellSummary(c, latencyLimit(m.gates, row.chip));
  const cls = ['cell', s.kind];
  if (c.gate) cls.push('gate-' + c.gate);
  // regression null = not compared (no p50 on one side): said so, never shown as "no regression"
  const delta = c.p50Change === null || c.p50Change === undefined
    ? (m.baseline && c.source === 'measured' ? h('div', { class: 'muted not-compared', 'data-regression': '' }, 'not compared') : null)
    : h('div', { class: c.regression ? 'regression' : (c.p50Change < 0 ? 'improvement' : 'muted'), 'data-regression': c.regression ? 'true' : 'false' },
      (c.regression ? '▲ ' : '') + pct(c.p50Change, latencyThreshold(m), c.regression));
  const td = h('td', { class: cls.join(' '), 'data-variant': row.cell, 'data-cu': cu, 'data-source': c.source,
      'data-gate': c.gate || '', title: row.cell + ' on ' + cu + (c.failure ? ': ' + c.failure : '')
        + (c.waitingFor ? ': waiting: ' + c.waitingFor : '') },
    h('div', { class: 'v' }, s.main), h('div', { class: 's' }, s.sub), delta);
  td.addEventListener('click', () => {
    document.querySelectorAll('td.cell.selected').forEach(e => e.classList.remove('selected'));
    td.classList.add('selected');
    selection = { variant: row.cell, cu };
    showDetails(row, cu, c, m);
  });
  return td;
}

function showDetails(row, cu, c, m) {
  const items = [['Variant', row.cell + ' (id ' + row.variantId + ')'], ['Compute units', cu], ['Source', c.source],
    ['Job', c.jobId + ' (' + c.jobState + ')']];
  if (c.source === 'measured') {
    items.push(['p50 / p90', fmtMs(c.p50Ms, latencyLimit(m.gates, row.chip)) + ' / ' + fmtMs(c.p90Ms)], ['Load time', fmtMs(c.loadMs)]);
    const on = c.measuredOn || {};
    items.push(['Host', on.host], ['OS', (on.osName || '') + ' ' + (on.osVersion || '')], ['OS build', on.osBuild],
      ['Chip', on.chip], ['Runtime', (on.runtime || '') + ' ' + (on.runtimeVersion || '')]);
    if (c.protocol) {
      items.push(['Protocol', c.protocol.warmupIterations + ' warm-up, ' + c.protocol.timedIterations + ' timed, max '
        + c.protocol.maxDurationMs + ' ms (' + c.protocol.samples + ' samples)']);
    }
  }
  if (c.failure) items.push([c.source === 'failed' ? 'Failure' : 'Reason', c.failure]);
  if (c.waitingFor) items.push(['Waiting for', c.waitingFor]);
  if (c.gate) items.push(['Latency gate', c.gate]);
  // the row's cosine is not measured where this cell's latency is: say where, so it never passes for the chip's
  items.push(['Variant cosine', row.fidelity.source === 'measured'
    ? fmtCos(row.fidelity.cosine, cosineLimit(m.gates, row)) + ' (' + fidelityWhere(row.fidelity, row.chip) + ')' : row.fidelity.source]);
  if (c.baselineP50Ms !== null && c.baselineP50Ms !== undefined) {
    items.push(['Baseline v' + m.baseline, fmtMs(c.baselineP50Ms) + (c.p50Change !== null && c.p50Change !== undefined
      ? ' (' + pct(c.p50Change, latencyThreshold(m), c.regression) + (c.regression ? ', a regression' : '') + ')' : ' (not compared)')]);
  } else if (m.baseline) {
    items.push(['Baseline v' + m.baseline, 'not compared: no p50 in v' + m.baseline]);
  }
  if (row.estimate) items.push(['Estimate', fmtMs(row.estimate.lowMs) + ' – ' + fmtMs(row.estimate.highMs) + ' (' + row.estimate.boundBy.toLowerCase() + '-bound)'],
    ['Estimate basis', row.estimate.basis]);
  else if (row.estimateUnavailable) items.push(['Estimate', 'unavailable: ' + row.estimateUnavailable]);
  fill(details, h('button', { class: 'secondary', id: 'close-details', onclick: closeDetails }, '×'),
    h('h2', {}, 'Cell details'), h('dl', { id: 'cell-details' }, items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v === undefined || v === null ? '–' : v)])));
  details.hidden = false;
  document.body.classList.add('details-open');
}

/** PASS/FAIL of the row's cosine against its cosine limit (row.minCosine), or null when not gated or not measured. */
function cosineGate(m, r) {
  const min = cosineLimit(m.gates, r);
  if (min === null) return null;
  if (r.fidelity.cosine === null || r.fidelity.cosine === undefined) return r.fidelity.source === 'failed' ? 'FAIL' : null;
  return r.fidelity.cosine >= min ? 'PASS' : 'FAIL';
}

function verdictPanel(m) {
  return h('div', { class: 'panel', id: 'verdict', 'data-status': m.verdict.status },
    h('strong', {}, 'Gates: '), h('span', { class: 'badge ' + m.verdict.status }, m.verdict.status), ' ',
    h('span', { class: 'muted', id: 'gates-set' }, m.gatesSet ? gatesLabel(m.gates) : 'no gates set for this model'),
    m.verdict.reasons.length ? h('ul', { class: 'reasons' }, m.verdict.reasons.map(r => h('li', {}, r))) : null);
}

/** The relative p50 increase past which a cell regressed against the baseline (0.10), or null. */
function latencyThreshold(m) {
  return m.regressionThresholds ? m.regressionThresholds.latencyIncrease : null;
}

function regressionsPanel(m) {
  if (!m.baseline) return null;
  return h('div', { class: 'panel', id: 'regressions' },
    h('strong', {}, 'Against v' + m.baseline + ': '),
    m.regressionThresholds ? h('span', { class: 'muted', id: 'regression-thresholds' }, '(' + regressionLabel(m.regressionThresholds) + ') ') : null,
    m.regressions.length ? h('ul', { class: 'reasons' }, m.regressions.map(r => h('li', { class: 'regression' }, r)))
      : h('span', { class: 'muted' }, (m.notCompared || []).length ? 'no regressions among the compared cells' : 'no regressions'),
    (m.notCompared || []).length ? h('ul', { class: 'reasons', id: 'not-compared' },
      m.notCompared.map(r => h('li', { class: 'muted' }, r))) : null);
}

function legend() {
  return h('div', { class: 'legend' }, h('span', { class: 'cell gate-PASS' }, 'measured, within gate'),
    h('span', { class: 'cell gate-FAIL' }, 'measured, over gate'), h('span', { class: 'cell measured' }, 'measured, not gated'),
    h('span', { class: 'cell estimated' }, 'estimated (roofline)'), h('span', { class: 'cell pending' }, 'pending'),
    h('span', { class: 'cell failed' }, 'run failed'), h('span', { class: 'cell cancelled' }, 'cancelled (yanked, or no golden data)'),
    h('span', { class: 'regression' }, '▲ regression vs baseline'));
}

function matrixTable(name, version, m) {
  if (m.rows.length === 0) {
    return h('p', { class: 'muted', id: 'no-variants' }, m.versionStatus === 'draft' ? 'No variants registered yet.' : 'No variants.');
  }
  const header = h('tr', {}, h('th', {}, 'Variant'), h('th', {}, 'Size'),
    h('th', { title: 'cosine against the golden outputs, with the runtime and host that measured it (today reference-cpu on a Linux host, not the chip)' }, 'Fidelity (cosine, where measured)'),
    h('th', {}, 'Gate'),
    m.computeUnits.map(cu => h('th', {}, cu)), h('th', {}, 'Package'));
  const rows = m.rows.map(r => h('tr', { class: r.baselineRow ? 'baseline-row' : '', 'data-variant': r.cell, 'data-gate': r.gateStatus },
    h('td', {}, r.cell, r.baselineRow ? h('span', { class: 'muted', title: 'standard-layout fp16 comparison variant: shown, never blocks promotion' }, ' (comparison)') : null,
      h('div', { class: 'muted' }, r.layout + ' · seq ' + r.seqLen + ' · iOS ' + r.deploymentTarget)),
    h('td', {}, fmtBytes(r.sizeBytes)),
    h('td', { class: 'fidelity' + (cosineGate(m, r) ? ' cell gate-' + cosineGate(m, r) : ''), 'data-source': r.fidelity.source,
        'data-gate': cosineGate(m, r) || '', title: fidelityWhere(r.fidelity, r.chip) || r.fidelity.waitingFor || r.fidelity.source },
      fmtCos(r.fidelity.cosine, cosineLimit(m.gates, r)),
      h('div', { class: 'muted' }, r.fidelity.source + (r.fidelity.waitingFor ? ' · ' + clip(r.fidelity.waitingFor) : '')
        + (r.fidelity.source === 'cancelled' && r.fidelity.failure ? ' · ' + clip(r.fidelity.failure) : '')),
      fidelityWhere(r.fidelity, r.chip) ? h('div', { class: 'muted fidelity-where' }, fidelityWhere(r.fidelity, r.chip)) : null,
      r.delta && r.delta.cosineChange !== null && r.delta.cosineChange !== undefined ? h('div', { class: r.delta.regression ? 'regression' : 'muted' },
        (r.delta.regression ? '▼ ' : '') + cosChange(r.delta.cosineChange, m.regressionThresholds ? m.regressionThresholds.cosineDrop : null, r.delta.regression))
        : m.baseline ? h('div', { class: 'muted not-compared' }, 'not compared') : null),
    h('td', { class: 'gate' }, h('span', { class: 'badge ' + r.gateStatus }, r.gateStatus),
      r.yankReason ? h('div', { class: 'muted yank-reason' }, 'yanked: ' + r.yankReason) : null,
      r.gateReasons.length ? h('ul', { class: 'reasons' }, r.gateReasons.map(x => {
        const reason = x.substring(x.indexOf(': ') + 2); // the row already names the cell
        return h('li', { title: reason }, clip(reason));
      })) : null),
    m.computeUnits.map(cu => cellView(r, cu, r.cells[cu], m)),
    h('td', {}, h('button', { class: 'secondary download', onclick: () => download('/blobs/' + r.digest,
      name + '-v' + version + '-' + r.cell.replace(/\s+/g, '-') + '.mlpackage.zip') }, 'Download'))));
  // The wrapper scrolls sideways, so a wide matrix never widens the page.
  return h('div', { class: 'matrix-scroll' }, h('table', { id: 'matrix' }, header, rows));
}

/** Marks the selected cell again in a re-rendered matrix and refreshes its details; closes them if it is gone. */
function reselect(m) {
  if (!selection || details.hidden) return;
  const row = m.rows.find(r => r.cell === selection.variant);
  const c = row ? row.cells[selection.cu] : null;
  const td = c ? [...document.querySelectorAll('#matrix td.cell')].find(e =>
    e.getAttribute('data-variant') === selection.variant && e.getAttribute('data-cu') === selection.cu) : null;
  if (!td) { closeDetails(); return; }
  td.classList.add('selected');
  showDetails(row, selection.cu, c, m);
}

async function versionPage(seq, name, version, baseline) {
  const base = '#/m/' + encodeURIComponent(name);
  setCrumbs([['Models', '#/'], [name, base], ['v' + version, base + '/v/' + version]]);
  const q = baseline ? '?baseline=' + baseline : '';
  const path = '/models/' + encodeURIComponent(name) + '/versions/' + version + '/matrix';
  const [answer, versions] = await Promise.all([apiIfChanged(path + q, null), api('/models/' + encodeURIComponent(name) + '/versions')]);
  if (seq !== routeSeq) return;
  const first = answer.body;
  let etag = answer.etag;

  const baseSelect = h('select', { id: 'baseline', onchange: (ev) => {
    location.hash = base + '/v/' + version + (ev.target.value ? '?baseline=' + ev.target.value : '');
  } }, h('option', { value: '' }, 'no baseline'),
    versions.filter(v => v.version !== version).map(v => h('option', { value: v.version, selected: baseline === v.version }, 'vs v' + v.version)));

  const heading = h('h1', {});
  const matrixSection = h('section', { id: 'matrix-section' });
  const status = h('p', { class: 'muted', id: 'matrix-status', 'data-state': 'ok' });
  let promote = promotePanel(name, version, first);
  let shownStatus = first.versionStatus;
  function render(m) {
    // A refresh must not move what the user is looking at: the matrix's sideways scroll, the page's and
    // the details panel's scroll, and the selected cell with its details (reselect) stay as they were.
    const wide = matrixSection.querySelector('.matrix-scroll');
    const left = wide ? wide.scrollLeft : 0;
    const x = window.scrollX;
    const y = window.scrollY;
    const detailsTop = details.scrollTop;
    fill(heading, name + ' v' + version + ' ', h('span', { class: 'muted', id: 'version-status' }, '(' + m.versionStatus + ')'));
    fill(matrixSection, verdictPanel(m), regressionsPanel(m), legend(), matrixTable(name, version, m));
    reselect(m);
    const again = matrixSection.querySelector('.matrix-scroll');
    if (again) again.scrollLeft = left;
    window.scrollTo(x, y);
    details.scrollTop = detailsTop;
    // The promote form keeps what the user typed; it is rebuilt only when the version's status changes
    // (a conversion publishes its version when it succeeds), since only then can the button change.
    if (m.versionStatus !== shownStatus) {
      shownStatus = m.versionStatus;
      const next = promotePanel(name, version, m);
      promote.replaceWith(next);
      promote = next;
    }
  }
  render(first);

  // "Updated" is when the matrix last changed on the page; "checked" when the registry last answered.
  let updatedAt = Date.now();
  function showStatus(r) {
    const time = t => new Date(t).toLocaleTimeString();
    const next = r.nextMs === null ? 'paused while the tab is hidden' : 'next check in ' + Math.round(r.nextMs / 100) / 10 + ' s';
    if (r.ok) {
      if (r.changed) updatedAt = r.at;
      status.className = 'muted';
      status.setAttribute('data-state', 'ok');
      status.setAttribute('data-updated', new Date(updatedAt).toISOString());
      fill(status, 'Updated ' + time(updatedAt) + ' · checked ' + time(r.at) + ' · ' + next);
    } else {
      // the last matrix stays on the page, with its age: the error is a line above it, not a page
      status.className = 'error';
      status.setAttribute('data-state', 'error');
      fill(status, 'Cannot reach the registry (' + r.error.message + '): showing the matrix as of ' + time(updatedAt)
        + ' · retrying in ' + (r.nextMs === null ? 'when the tab is shown' : Math.round(r.nextMs / 100) / 10 + ' s'));
    }
  }
  fill(status, 'Updated ' + new Date(updatedAt).toLocaleTimeString());
  status.setAttribute('data-updated', new Date(updatedAt).toISOString());

  // Agents report benchmark and accuracy results long after a conversion ends, so the matrix is asked for
  // again for as long as the page is open and the tab is in front: every refreshMs() while answers change,
  // slowing down to aneforge.refreshMaxMs (30 s) while they do not or the registry cannot be reached. Each
  // poll names the matrix it has (ETag), so an unchanged matrix costs the registry a 304 and the page nothing.
  const poller = pollWhileShown(matrixSection, async () => {
    const a = await apiIfChanged(path + q, etag);
    if (!a.changed || !matrixSection.isConnected) return false;
    etag = a.etag;
    render(a.body);
    return true;
  }, showStatus);

  // While the version's conversion is live its variants are still being registered: each conversion poll,
  // and the one that sees the conversion finished, asks for the matrix at once.
  const conversion = h('div', { class: 'panel', id: 'conversion', hidden: true });
  let polls = 0;
  refreshWhileLive(conversion, 'Conversion', async () => {
    const live = await loadConversion(conversion, name, version);
    if (polls++ > 0) poller.poke();
    return live;
  });

  fill(app, heading,
    h('div', { class: 'inline' }, baseSelect, ' ',
      h('button', { class: 'secondary', id: 'csv', onclick: () => download(path + q, name + '-v' + version + '-matrix.csv', 'text/csv') }, 'Download CSV')),
    conversion, status, matrixSection, promote);
  poller.start(true); // the first answer was just rendered: the first poll is one interval away
}

// resolve's default alias, and the one `aneforge up` and the README use.
const DEFAULT_ALIAS = 'production';

function promotePanel(name, version, m) {
  const alias = h('input', { type: 'text', id: 'alias', value: DEFAULT_ALIAS, size: 12 });
  const reason = h('input', { type: 'text', id: 'reason', placeholder: 'why this version', size: 40 });
  const out = h('div', { id: 'promote-result' });
  async function promote(override) {
    const body = { version: version, reason: reason.value };
    if (override) {
      body.override = true;
      body.reason = document.getElementById('override-reason').value; // read before the panel is cleared
    }
    fill(out);
    try {
      const res = await api('/models/' + encodeURIComponent(name) + '/aliases/' + encodeURIComponent(alias.value), { method: 'PUT', json: body });
      fill(out, h('p', { id: 'promoted', 'data-version': res.version },
        alias.value + ' → v' + res.version + (override ? ' (gates overridden, recorded in the alias history)' : '')));
    } catch (e) {
      if (e.status === 409 && e.problem.reasons) {
        fill(out, h('div', { id: 'refused', class: 'error' },
          h('strong', {}, 'Refused: the release gates are ' + e.problem.gateStatus),
          h('ul', { class: 'reasons', id: 'refused-reasons' }, e.problem.reasons.map(r => h('li', {}, r)))),
          h('div', { class: 'panel' }, h('strong', {}, 'Admin override'),
            h('p', { class: 'muted' }, 'An admin may promote anyway; the reason and the failing gates are kept in the alias history.'),
            h('div', { class: 'inline' }, h('input', { type: 'text', id: 'override-reason', placeholder: 'reason for the override', size: 40 }),
              h('button', { class: 'danger', id: 'override', onclick: () => promote(true) }, 'Override and promote'))));
      } else {
        fill(out, h('p', { class: 'error', id: 'promote-error' }, e.message));
      }
    }
  }
  return h('div', { class: 'panel', id: 'promote-panel' }, h('h2', {}, 'Promote'),
    h('div', { class: 'inline' }, 'Alias ', alias, ' Reason ', reason,
      h('button', { id: 'promote', onclick: () => promote(false), disabled: m.versionStatus !== 'published' }, 'Promote v' + version)),
    m.versionStatus !== 'published' ? h('p', { class: 'muted' }, 'Only a published version can be promoted.') : null,
    out);
}

// ---- routing -------------------------------------------------------------------------------

async function route() {
  const seq = ++routeSeq;
  const hash = location.hash || '#/';
  if (!token() && hash !== '#/login') { location.hash = '#/login'; return; }
  closeDetails();
  const r = parseRoute(hash);
  try {
    if (r.page === 'login') loginPage();
    else if (r.page === 'home') await homePage(seq);
    else if (r.page === 'model') await modelPage(seq, r.name);
    else if (r.page === 'version') await versionPage(seq, r.name, r.version, r.baseline);
    else {
      setCrumbs([['Models', '#/']]);
      showError(r.message);
    }
  } catch (e) {
    if (seq === routeSeq) showError(e.message);
  }
}

window.addEventListener('hashchange', route);
route();
