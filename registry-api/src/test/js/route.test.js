// node --test registry-api/src/test/js (UiScriptsTest runs it in the Maven build)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { parseRoute } = require('../../main/resources/static/ui/route.js');

test('the pages', () => {
  assert.deepEqual(parseRoute(''), { page: 'home' });
  assert.deepEqual(parseRoute('#'), { page: 'home' });
  assert.deepEqual(parseRoute('#/'), { page: 'home' });
  assert.deepEqual(parseRoute('#/login'), { page: 'login' });
  assert.deepEqual(parseRoute('#/m/m1'), { page: 'model', name: 'm1' });
  assert.deepEqual(parseRoute('#/m/m1/'), { page: 'model', name: 'm1' });
  assert.deepEqual(parseRoute('#/m/m1/v/2'), { page: 'version', name: 'm1', version: 2, baseline: null });
  assert.deepEqual(parseRoute('#/m/m1/v/12?baseline=3'), { page: 'version', name: 'm1', version: 12, baseline: 3 });
  assert.deepEqual(parseRoute('#/m/m1/v/2?baseline='), { page: 'version', name: 'm1', version: 2, baseline: null });
});

test('names are percent-decoded per segment', () => {
  assert.deepEqual(parseRoute('#/m/' + encodeURIComponent('a/b ü') + '/v/1'), { page: 'version', name: 'a/b ü', version: 1, baseline: null });
});

test('malformed percent-encoding is a clear error, not an exception', () => {
  const r = parseRoute('#/m/%E0%A4%A');
  assert.equal(r.page, 'error');
  assert.match(r.message, /'%E0%A4%A' is not valid percent-encoding/);
});

test('a version or baseline that is not a whole number from 1 is a clear error', () => {
  for (const bad of ['abc', '2abc', '0', '-1', '1.5', '01', '99999999999999999999']) {
    const r = parseRoute('#/m/m1/v/' + bad);
    assert.equal(r.page, 'error', bad);
    assert.equal(r.message, "version '" + bad + "' is not a version number: versions are whole numbers from 1 (as in #/m/<model>/v/2)");
  }
  const b = parseRoute('#/m/m1/v/2?baseline=x');
  assert.equal(b.page, 'error');
  assert.match(b.message, /^baseline 'x' is not a version number/);
});

test('an address no page has says which pages there are', () => {
  const r = parseRoute('#/nope');
  assert.equal(r.page, 'error');
  assert.match(r.message, /^No page at #\/nope\. Pages are #\/ \(models\)/);
  assert.equal(parseRoute('#/m').page, 'error');
  assert.equal(parseRoute('#/m/m1/x/2').page, 'error');
});
