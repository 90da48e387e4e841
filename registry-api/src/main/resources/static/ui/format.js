// ANE Forge registry UI: how numbers, sources and matrix cells are written. Pure functions (no DOM), so
// node's test runner can check them (registry-api/src/test/js); the page gets them as window.AneForgeFormat.
'use strict';

(function (exports) {
  const present = v => v !== null && v !== undefined;

  function decimals(text) {
    const m = /\.(\d+)/.exec(text);
    return m ? m[1].length : 0;
  }

  /**
   * {@code text} (value rounded for display), or the value with more decimals when the rounded number would
   * compare with {@code limit} otherwise than the value does: a value just under or over a gate never appears
   * to tie with it, or to lie on its other side (0.9989996 against 0.999 is "0.9989996", not "0.99900").
   * A value exactly at the limit keeps the short form.
   */
  function apart(value, limit, text) {
    if (!present(limit) || !Number.isFinite(limit) || !Number.isFinite(value)) return text;
    return toward(value, limit, text, Math.sign(value - limit));
  }

  /** {@code text}, or {@code value} with more decimals until the shown number lies on side {@code want} (-1, 0, 1) of {@code limit}. */
  function toward(value, limit, text, want) {
    let shown = text;
    for (let d = decimals(text) + 1; Math.sign(Number(shown) - limit) !== want && d <= 20; d++) shown = value.toFixed(d);
    return shown;
  }

  /**
   * The side of {@code limit} a baseline change is shown on: the registry's verdict decides ({@code regressed}
   * puts it on side {@code bad}), and a change within the registry's tolerance of the limit (1e-9, kept so that
   * 6.6 ms against 6.0 ms is exactly +10 % and no regression) counts as at the limit, not past it.
   */
  const CHANGE_EPSILON = 1e-9;
  function changeSide(change, limit, regressed, bad) {
    if (regressed) return bad;
    return Math.abs(change - limit) <= CHANGE_EPSILON ? 0 : Math.sign(change - limit);
  }

  /** A latency or other positive number: 2 significant digits under 0.1, 2 decimals under 10, else 1. */
  function fmtNum(v, limit) {
    const text = v < 0.1 ? v.toPrecision(2) : v < 10 ? v.toFixed(2) : v.toFixed(1);
    return apart(v, limit, text);
  }

  function fmtMs(v, limit) { return present(v) ? fmtNum(v, limit) + ' ms' : '–'; }

  function fmtCos(v, limit) { return present(v) ? apart(v, limit, v.toFixed(5)) : '–'; }

  function fmtBytes(n) {
    if (!present(n)) return '–';
    if (n >= 1e9) return (n / 1e9).toFixed(2) + ' GB';
    if (n >= 1e6) return (n / 1e6).toFixed(1) + ' MB';
    if (n >= 1e3) return (n / 1e3).toFixed(1) + ' kB';
    return n + ' B';
  }

  /**
   * A relative change against the baseline (0.1004 = "+10.04 %"). With {@code limit}, the latency regression
   * threshold (0.10), and {@code regressed}, the registry's verdict on it, the number gets the digits that keep
   * it off the threshold when it is not at it: a regression never reads "+10.0 %" next to "more than +10 %",
   * and +9.96 % that passes never reads "+10.0 %" either. Without a limit: one decimal.
   */
  function pct(v, limit, regressed) {
    const sign = v >= 0 ? '+' : '';
    const text = (v * 100).toFixed(1);
    if (!present(limit) || !Number.isFinite(limit) || !Number.isFinite(v)) return sign + text + ' %';
    const want = changeSide(v, limit, regressed, 1);
    // in percent, without the binary noise of the multiplication (0.07 * 100 is 7.000000000000001)
    const limitPct = Number((limit * 100).toFixed(10));
    return sign + toward(v * 100, limitPct, text, want) + ' %';
  }

  /**
   * A cosine change against the baseline ("-0.00240"), apart from {@code -maxDrop} (the cosine regression
   * threshold, 0.0005) the same way {@link pct} keeps latency apart from its threshold.
   */
  function cosChange(v, maxDrop, regressed) {
    const sign = v >= 0 ? '+' : '';
    const text = v.toFixed(5);
    if (!present(maxDrop) || !Number.isFinite(maxDrop) || !Number.isFinite(v)) return sign + text;
    return sign + toward(v, -maxDrop, text, changeSide(v, -maxDrop, regressed, -1));
  }

  /** The registry's regression thresholds in words ("p50 more than +10 % slower or cosine more than 0.0005 lower"). */
  function regressionLabel(t) {
    if (!t) return '';
    const n = x => String(Number(x.toFixed(10)));
    return 'a regression is p50 more than +' + n(t.latencyIncrease * 100) + ' % slower or cosine more than ' + n(t.cosineDrop) + ' lower';
  }

  /** The p50 limit of {@code chip} under {@code gates}: its own entry, else the default, else null (as ane-core's Gates). */
  function latencyLimit(gates, chip) {
    if (!gates) return null;
    const own = gates.maxP50Ms ? gates.maxP50Ms[chip] : undefined;
    if (present(own)) return own;
    return present(gates.maxP50MsDefault) ? gates.maxP50MsDefault : null;
  }

  /**
   * The cosine limit of a matrix row: the registry's row.minCosine (its precision's minCosineByPrecision entry, else
   * its family's, else minCosine; null when not gated) when given, else the gates' minCosine.
   */
  function cosineLimit(gates, row) {
    if (row && row.minCosine !== undefined) return present(row.minCosine) ? row.minCosine : null;
    return gates && present(gates.minCosine) ? gates.minCosine : null;
  }

  /**
   * A model's gates in words, leaving out the ones not set ("cosine ≥ 0.999 · p50 ≤ 3 ms on A17_PRO"). minCosine
   * follows the per-precision limits as "for other precisions", like the default latency after the per-chip ones:
   * a bare "cosine ≥ 0.99" before them would read as applying to every precision.
   */
  function gatesLabel(gates) {
    if (!gates) return 'none';
    const parts = [];
    const perPrecision = Object.entries(gates.minCosineByPrecision || {});
    for (const [precision, min] of perPrecision) parts.push('cosine ≥ ' + min + ' for ' + precision);
    if (present(gates.minCosine)) {
      parts.push('cosine ≥ ' + gates.minCosine + (perPrecision.length ? ' for other precisions' : ''));
    }
    const perChip = Object.entries(gates.maxP50Ms || {});
    for (const [chip, ms] of perChip) parts.push('p50 ≤ ' + ms + ' ms on ' + chip);
    if (present(gates.maxP50MsDefault)) {
      parts.push('p50 ≤ ' + gates.maxP50MsDefault + ' ms on ' + (perChip.length ? 'other chips' : 'every chip'));
    }
    if (present(gates.maxArtifactBytes)) parts.push('package ≤ ' + gates.maxArtifactBytes + ' bytes (' + fmtBytes(gates.maxArtifactBytes) + ')');
    return parts.length ? parts.join(' · ') : 'none';
  }

  /** Where a version came from, in a few words. */
  function sourceLabel(source) {
    if (!source) return '–';
    switch (source.type) {
      case 'hub': return source.repo + '@' + (source.commit || source.revision);
      case 'local': return 'local ' + (source.path || '');
      case 'upload': return 'upload';
      default: return source.type || '–';
    }
  }

  const CLIP = 160;

  /** At most {@code max} characters of {@code text}, ending in … when cut (the full text goes in the details). */
  function clip(text, max) {
    const n = max || CLIP;
    if (!present(text)) return '';
    return text.length <= n ? text : text.substring(0, n - 1) + '…';
  }

  /**
   * What a matrix cell shows: {@code kind} (its CSS class: measured, estimated, failed, cancelled, pending),
   * the main line and the line under it. {@code limit} is the row's latency limit, or null.
   * A cell whose job was cancelled (its variant or version yanked) says so, whether the registry marks that
   * in {@code source} or only in {@code jobState}; a measured cell keeps its numbers.
   */
  function cellSummary(c, limit) {
    if (c.source === 'measured') {
      return { kind: 'measured', main: fmtMs(c.p50Ms, limit),
        sub: 'p90 ' + fmtMs(c.p90Ms) + ' · ' + measuredWhere(c.measuredOn) };
    }
    if (c.source === 'failed') return { kind: 'failed', main: 'failed', sub: clip(c.failure) };
    if (c.source === 'cancelled' || c.jobState === 'cancelled') {
      return { kind: 'cancelled', main: 'cancelled', sub: clip(c.failure) };
    }
    // a pending job nobody can take says why (the jobs list's waitingFor), clipped like a failure
    const waiting = present(c.waitingFor) ? ' · ' + clip(c.waitingFor) : '';
    if (c.source === 'estimated') {
      return { kind: 'estimated', main: '~' + fmtNum(c.estimateLowMs) + '–' + fmtMs(c.estimateHighMs),
        sub: 'estimated · ' + c.jobState + waiting };
    }
    return { kind: 'pending', main: 'pending', sub: (c.jobState || '') + waiting };
  }

  /**
   * Where a number was measured, short: the runtime, then the host ("coreml on mac-1", "reference-cpu on vm").
   * The runtime comes first because it decides what the number means: a reference-cpu result is the
   * package's arithmetic on a Linux CPU, not what a chip's Neural Engine computes (docs/qa.md "Matrix").
   */
  function measuredWhere(on) {
    if (!on) return '';
    return (on.runtime || 'unknown runtime') + ' on ' + (on.host || 'unknown host');
  }

  /**
   * Where a variant's cosine was measured, in words, for the fidelity cell of a row of chip {@code chip}.
   * Never reads as the chip's own number unless Core ML on that chip produced it: a reference-cpu cosine says
   * "reference-cpu 1.1 on vm (Linux), not on A17_PRO". Empty while nothing was measured.
   */
  function fidelityWhere(fidelity, chip) {
    if (!fidelity || fidelity.source !== 'measured' || !fidelity.measuredOn) return '';
    const on = fidelity.measuredOn;
    const runtime = [on.runtime || 'unknown runtime', on.runtimeVersion].filter(present).join(' ');
    const host = (on.host || 'unknown host') + (present(on.osName) ? ' (' + on.osName + ')' : '');
    const onChip = on.runtime === 'coreml' && present(on.chip) && on.chip === chip;
    return runtime + ' on ' + host + (onChip ? ', chip ' + on.chip : (present(chip) ? ', not on ' + chip : ''));
  }

  Object.assign(exports, { fmtNum, fmtMs, fmtCos, fmtBytes, pct, cosChange, regressionLabel, latencyLimit, cosineLimit, gatesLabel, sourceLabel, clip, cellSummary, measuredWhere, fidelityWhere });
})(typeof module === 'object' && module.exports ? module.exports : (globalThis.AneForgeFormat = {}));
