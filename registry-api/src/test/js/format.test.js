// node --test registry-api/src/test/js (UiScriptsTest runs it in the Maven build)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const f = require('../../main/resources/static/ui/format.js');

test('a cosine just under the gate never shows as the gate', () => {
  assert.equal(f.fmtCos(0.9989996, 0.999), '0.9989996');
  assert.equal(f.fmtCos(0.99899, 0.999), '0.99899');
  // float32 from the database: 0.9989996 stored as real
  assert.ok(Number(f.fmtCos(Math.fround(0.9989996), 0.999)) < 0.999);
});

test('a cosine just over the gate never shows as the gate', () => {
  assert.equal(f.fmtCos(0.9990004, 0.999), '0.9990004');
});

test('a value exactly at the gate and values far from it keep the short form', () => {
  assert.equal(f.fmtCos(0.999, 0.999), '0.99900');
  assert.equal(f.fmtCos(0.9971, 0.999), '0.99710');
  assert.equal(f.fmtCos(0.99995, 0.999), '0.99995');
  assert.equal(f.fmtCos(0.99995), '0.99995');
  assert.equal(f.fmtCos(null, 0.999), '–');
  assert.equal(f.fmtMs(3.0, 3.0), '3.00 ms');
  assert.equal(f.fmtMs(2.5, 3.0), '2.50 ms');
  assert.equal(f.fmtMs(9.0, 3.0), '9.00 ms');
  assert.equal(f.fmtMs(undefined, 3.0), '–');
});

test('a latency just over or under its limit shows the digits that tell them apart', () => {
  assert.equal(f.fmtMs(3.004, 3.0), '3.004 ms');
  assert.equal(f.fmtMs(2.996, 3.0), '2.996 ms');
  assert.equal(f.fmtMs(12.04, 12), '12.04 ms');
  assert.equal(f.fmtMs(3.0000001, 3.0), '3.0000001 ms');
  assert.equal(f.fmtMs(0.05004, 0.05), '0.05004 ms');
});

test('a rounded value never lands on the other side of the limit', () => {
  // 2.996 to 2 decimals is 3.00, above a 2.999 limit the value is under
  assert.equal(f.fmtMs(2.996, 2.999), '2.996 ms');
  // 0.999003 to 5 decimals is 0.99900, under a 0.999002 limit the value is over
  assert.equal(f.fmtCos(0.999003, 0.999002), '0.999003');
});

test('the latency limit of a chip is its own entry, else the default, else none', () => {
  const gates = { minCosine: 0.999, maxP50Ms: { A17_PRO: 3.0 }, maxP50MsDefault: 8.0 };
  assert.equal(f.latencyLimit(gates, 'A17_PRO'), 3.0);
  assert.equal(f.latencyLimit(gates, 'M2'), 8.0);
  assert.equal(f.latencyLimit({ maxP50Ms: { A17_PRO: 3.0 } }, 'M2'), null);
  assert.equal(f.latencyLimit(null, 'M2'), null);
  assert.equal(f.cosineLimit(gates), 0.999);
  assert.equal(f.cosineLimit({ maxP50MsDefault: 8 }), null);
  // a matrix row carries its own limit (its precision's): it wins, null included (not gated)
  const perPrecision = { minCosine: 0.99, minCosineByPrecision: { 'w8a8-affine': 0.95 } };
  assert.equal(f.cosineLimit(perPrecision, { minCosine: 0.95 }), 0.95);
  assert.equal(f.cosineLimit({ minCosineByPrecision: { int4: 0.98 } }, { minCosine: null }), null);
  assert.equal(f.cosineLimit(perPrecision, {}), 0.99);
});

test('a version source names hub, local and upload sources as such', () => {
  assert.equal(f.sourceLabel({ type: 'hub', repo: 'org/m', revision: 'main', commit: null }), 'org/m@main');
  assert.equal(f.sourceLabel({ type: 'hub', repo: 'org/m', revision: 'main', commit: 'abc' }), 'org/m@abc');
  assert.equal(f.sourceLabel({ type: 'local', path: '/srv/snap' }), 'local /srv/snap');
  assert.equal(f.sourceLabel({ type: 'upload' }), 'upload');
  assert.equal(f.sourceLabel({ type: 'git' }), 'git');
  assert.equal(f.sourceLabel(null), '–');
});

test('a long failure is clipped in the cell', () => {
  const long = 'E'.repeat(8000);
  const s = f.cellSummary({ source: 'failed', failure: long, jobState: 'failed' }, null);
  assert.equal(s.kind, 'failed');
  assert.equal(s.sub.length, 160);
  assert.ok(s.sub.endsWith('…'));
  assert.equal(f.clip('short'), 'short');
  assert.equal(f.clip(null), '');
});

test('cells say measured, estimated, pending, failed or cancelled', () => {
  const measured = f.cellSummary({ source: 'measured', p50Ms: 3.004, p90Ms: 3.6, measuredOn: { host: 'h1' } }, 3.0);
  assert.deepEqual(measured, { kind: 'measured', main: '3.004 ms', sub: 'p90 3.60 ms · unknown runtime on h1' });
  assert.deepEqual(f.cellSummary({ source: 'estimated', estimateLowMs: 0.5, estimateHighMs: 1.7, jobState: 'pending' }, 3.0),
    { kind: 'estimated', main: '~0.50–1.70 ms', sub: 'estimated · pending' });
  assert.deepEqual(f.cellSummary({ source: 'pending', jobState: 'leased' }, null), { kind: 'pending', main: 'pending', sub: 'leased' });
  // the registry today marks a cancelled job only in jobState; a 'cancelled' source is read the same way
  assert.equal(f.cellSummary({ source: 'estimated', jobState: 'cancelled', failure: 'cancelled: variant 3 yanked' }, null).kind, 'cancelled');
  assert.deepEqual(f.cellSummary({ source: 'cancelled', jobState: 'cancelled', failure: 'cancelled: version 2 yanked' }, null),
    { kind: 'cancelled', main: 'cancelled', sub: 'cancelled: version 2 yanked' });
  assert.deepEqual(f.cellSummary({ source: 'cancelled', jobState: 'cancelled' }, null), { kind: 'cancelled', main: 'cancelled', sub: '' });
});

test('gates are written out without the ones not set', () => {
  assert.equal(f.gatesLabel({ minCosine: 0.999, maxP50Ms: { A17_PRO: 3 }, maxArtifactBytes: null, maxP50MsDefault: null }),
    'cosine ≥ 0.999 · p50 ≤ 3 ms on A17_PRO');
  assert.equal(f.gatesLabel({ minCosine: null, maxP50Ms: { A17_PRO: 3 }, maxArtifactBytes: 50000000, maxP50MsDefault: 8 }),
    'p50 ≤ 3 ms on A17_PRO · p50 ≤ 8 ms on other chips · package ≤ 50000000 bytes (50.0 MB)');
  assert.equal(f.gatesLabel({ maxP50MsDefault: 8 }), 'p50 ≤ 8 ms on every chip');
  assert.equal(f.gatesLabel({ minCosine: 0.99, minCosineByPrecision: { 'w8a8-affine': 0.95, int4: 0.98 }, maxP50Ms: {} }),
    'cosine ≥ 0.95 for w8a8-affine · cosine ≥ 0.98 for int4 · cosine ≥ 0.99 for other precisions');
  assert.equal(f.gatesLabel({ minCosine: 0.99, minCosineByPrecision: {}, maxP50Ms: {} }), 'cosine ≥ 0.99');
  assert.equal(f.gatesLabel({ minCosineByPrecision: { int4: 0.98 }, maxP50Ms: {} }), 'cosine ≥ 0.98 for int4');
  assert.equal(f.gatesLabel({ minCosine: null, minCosineByPrecision: {}, maxP50Ms: {} }), 'none');
  assert.equal(f.gatesLabel({ minCosine: null, maxP50Ms: {} }), 'none');
  assert.equal(f.gatesLabel(null), 'none');
});

test('a latency regression never shows as its threshold', () => {
  // 2.2008 ms against 2.00 ms: +10.04 %, over the +10 % threshold
  assert.equal(f.pct(2.2008 / 2.0 - 1, 0.10, true), '+10.04 %');
  assert.equal(f.pct(0.10001, 0.10, true), '+10.001 %');
  assert.equal(f.pct(0.25, 0.10, true), '+25.0 %');
  // under it and passing: the digits that show it under
  assert.equal(f.pct(0.0996, 0.10, false), '+9.96 %');
  // exactly at it (6.6 ms against 6.0 ms, binary noise within the registry's tolerance) passes and reads +10.0 %
  assert.equal(f.pct(6.6 / 6.0 - 1, 0.10, false), '+10.0 %');
  assert.equal(f.pct(0.10, 0.10, false), '+10.0 %');
  // a threshold with binary noise in percent (0.07 * 100) does not spill digits at the limit
  assert.equal(f.pct(0.07, 0.07, false), '+7.0 %');
  assert.equal(f.pct(0.0704, 0.07, true), '+7.04 %');
  // far from it, faster, or with no threshold known: one decimal
  assert.equal(f.pct(-0.05, 0.10, false), '-5.0 %');
  assert.equal(f.pct(0.1004), '+10.0 %');
});

test('a cosine regression never shows as its threshold', () => {
  assert.equal(f.cosChange(-0.000501, 0.0005, true), '-0.000501');
  assert.equal(f.cosChange(-0.0024, 0.0005, true), '-0.00240');
  assert.equal(f.cosChange(-0.000499, 0.0005, false), '-0.000499');
  assert.equal(f.cosChange(-0.0005, 0.0005, false), '-0.00050');
  assert.equal(f.cosChange(0.00001, 0.0005, false), '+0.00001');
  // float32 cosines from the database: the difference carries their noise, and still reads past the threshold
  const drop = Math.fround(0.9985) - Math.fround(0.999);
  assert.ok(Number(f.cosChange(drop, 0.0005, true)) < -0.0005);
  assert.equal(f.cosChange(-0.0024), '-0.00240');
});

test('the regression thresholds are written out', () => {
  assert.equal(f.regressionLabel({ latencyIncrease: 0.1, cosineDrop: 0.0005 }),
    'a regression is p50 more than +10 % slower or cosine more than 0.0005 lower');
  assert.equal(f.regressionLabel({ latencyIncrease: 0.07, cosineDrop: 0.001 }),
    'a regression is p50 more than +7 % slower or cosine more than 0.001 lower');
  assert.equal(f.regressionLabel(null), '');
});

test('a number says the runtime and host that measured it, and a reference-cpu cosine never reads as the chip\'s', () => {
  const ref = { host: 'vm', osName: 'Linux', chip: null, runtime: 'reference-cpu', runtimeVersion: '1.1' };
  assert.equal(f.fidelityWhere({ source: 'measured', cosine: 0.9998, measuredOn: ref }, 'A17_PRO'),
    'reference-cpu 1.1 on vm (Linux), not on A17_PRO');
  const mac = { host: 'mac-1', osName: 'macOS', chip: 'M2', runtime: 'coreml', runtimeVersion: '8.0' };
  assert.equal(f.fidelityWhere({ source: 'measured', cosine: 0.9998, measuredOn: mac }, 'M2'), 'coreml 8.0 on mac-1 (macOS), chip M2');
  // Core ML on another chip is still not this row's chip
  assert.equal(f.fidelityWhere({ source: 'measured', cosine: 0.9998, measuredOn: mac }, 'A17_PRO'), 'coreml 8.0 on mac-1 (macOS), not on A17_PRO');
  assert.equal(f.fidelityWhere({ source: 'pending', cosine: null, measuredOn: null }, 'A17_PRO'), '');
  assert.equal(f.cellSummary({ source: 'measured', p50Ms: 2.5, p90Ms: 3.0, measuredOn: mac }, null).sub, 'p90 3.00 ms · coreml on mac-1');
});

test('a pending cell nobody can take says why; one an agent could take says only its state', () => {
  const why = "no online agent offers runtime 'coreml' on chip A17_PRO";
  assert.deepEqual(f.cellSummary({ source: 'pending', jobState: 'pending', waitingFor: why }, null),
    { kind: 'pending', main: 'pending', sub: 'pending · ' + why });
  assert.equal(f.cellSummary({ source: 'estimated', estimateLowMs: 0.5, estimateHighMs: 1.7, jobState: 'pending', waitingFor: why }, 3.0).sub,
    'estimated · pending · ' + why);
  assert.deepEqual(f.cellSummary({ source: 'pending', jobState: 'pending', waitingFor: null }, null), { kind: 'pending', main: 'pending', sub: 'pending' });
});
