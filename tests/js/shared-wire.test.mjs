// The options key that decides whether a tab may join a shared connection
// (js/shared-wire.js), in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { errorFromWire, errorToWire, optionsKey } from '../../js/shared-wire.js';
import { MqttError } from '../../js/index.js';

test('the options key ignores key order and the provider\'s code, not values', () => {
  const url = 'ws://h/mqtt';
  const a = { clientId: 'd', will: { topic: 't', payload: new Uint8Array([1, 2]) }, credentials: async () => ({}) };
  const b = { credentials: () => null, will: { payload: new Uint8Array([1, 2]), topic: 't' }, clientId: 'd' };
  assert.equal(optionsKey(url, a), optionsKey(url, b));
  assert.equal(optionsKey(url, { will: { topic: 't', payload: 'x' } }), optionsKey(url, { will: { payload: 'x', topic: 't' } }));
  assert.notEqual(optionsKey(url, a), optionsKey(url, { ...a, credentials: undefined }));
  assert.notEqual(optionsKey(url, a), optionsKey(url, { ...a, will: { topic: 't', payload: new Uint8Array([1, 3]) } }));
  assert.notEqual(optionsKey(url, a), optionsKey('ws://other/mqtt', a));
  assert.notEqual(optionsKey(url, { clientId: 'a' }), optionsKey(url, { clientId: 'b' }));
  assert.equal(optionsKey(url), optionsKey(url, {}));
});

test('errors cross as records and come back as MqttError', () => {
  const e = errorFromWire(structuredClone(errorToWire(new MqttError('refused', 'REJECTED', 0x87))));
  assert.ok(e instanceof MqttError);
  assert.deepEqual([e.message, e.code, e.reasonCode], ['refused', 'REJECTED', 0x87]);
  assert.equal(errorToWire(new Error('plain')).code, 'FAILED');
});
