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
    const want = Math.sign(value - limit);
    let shown = text;
    for (let d = decimals(text) + 1; Math.sign(Number(shown) - limit) !== want && d <= 20; d++) shown = value.toFixed(d);
    return shown;
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

  function pct(v) { return (v >= 0 ? '+' : '') + (v * 100).toFixed(1) + ' %'; }

  /** The p50 limit of {@code chip} under {@code gates}: its own entry, else the default, else null (as ane-core's Gates). */
  function latencyLimit(gates, chip) {
    if (!gates) return null;
    const own = gates.maxP50Ms ? gates.maxP50Ms[chip] : undefined;
    if (present(own)) return own;
    return present(gates.maxP50MsDefault) ? gates.maxP50MsDefault : null;
  }

  function cosineLimit(gates) {
    return gates && present(gates.minCosine) ? gates.minCosine : null;
  }

  /** A model's gates in words, leaving out the ones not set ("cosine ≥ 0.999 · p50 ≤ 3 ms on A17_PRO"). */
  function gatesLabel(gates) {
    if (!gates) return 'none';
    const parts = [];
    if (present(gates.minCosine)) parts.push('cosine ≥ ' + gates.minCosine);
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
        sub: 'p90 ' + fmtMs(c.p90Ms) + ' · ' + (c.measuredOn ? c.measuredOn.host : '') };
    }
    if (c.source === 'failed') return { kind: 'failed', main: 'failed', sub: clip(c.failure) };
    if (c.source === 'cancelled' || c.jobState === 'cancelled') {
      return { kind: 'cancelled', main: 'cancelled', sub: clip(c.failure) };
    }
    if (c.source === 'estimated') {
      return { kind: 'estimated', main: '~' + fmtNum(c.estimateLowMs) + '–' + fmtMs(c.estimateHighMs),
        sub: 'estimated · ' + c.jobState };
    }
    return { kind: 'pending', main: 'pending', sub: c.jobState || '' };
  }

  Object.assign(exports, { fmtNum, fmtMs, fmtCos, fmtBytes, pct, latencyLimit, cosineLimit, gatesLabel, sourceLabel, clip, cellSummary });
})(typeof module === 'object' && module.exports ? module.exports : (globalThis.AneForgeFormat = {}));
