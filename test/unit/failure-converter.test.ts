import assert from 'node:assert/strict';
import { ApplicationFailure, defaultPayloadConverter, type ProtoFailure } from '@temporalio/common';
import { failureConverter, wellFormed } from '../../src/failure-converter';

/** Every string in the tree survives a UTF-8 round trip (what protobuf needs). */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((item) => stringsOf(item, out));
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    Object.values(value).forEach((item) => stringsOf(item, out));
  }
  return out;
}
const utf8RoundTrips = (text: string) => Buffer.from(text, 'utf8').toString('utf8') === text;

describe('failure converter: well-formed strings', function () {
  it('replaces unpaired surrogates and keeps everything else', function () {
    assert.equal(wellFormed('a\ud800b'), 'a\ufffdb');
    assert.equal(wellFormed('\udc00\ud800'), '\ufffd\ufffd');
    assert.equal(wellFormed('\ud83d\ude00 ok é'), '\ud83d\ude00 ok é', 'a surrogate pair is a character, kept');
    assert.equal(wellFormed('\ud83d'), '\ufffd');
  });

  it('makes every string of a failure and its causes valid UTF-8, keeping type and details', function () {
    const error = ApplicationFailure.create({
      message: '"\ud800" is not an approver',
      type: 'NotAuthorized',
      details: [{ approver: '\ud800' }],
      cause: new Error('inner \udfff'),
    });
    const failure: ProtoFailure = failureConverter.errorToFailure(error, defaultPayloadConverter);
    const strings = stringsOf(failure);
    assert.ok(strings.length >= 3);
    for (const text of strings) assert.ok(utf8RoundTrips(text), JSON.stringify(text));
    assert.equal(failure.message, '"\ufffd" is not an approver');
    assert.equal(failure.cause?.message, 'inner \ufffd');
    assert.equal(failure.applicationFailureInfo?.type, 'NotAuthorized');
    // Details are payloads (bytes): they reach the client as they were sent.
    const back = failureConverter.failureToError(failure, defaultPayloadConverter);
    assert.ok(back instanceof ApplicationFailure);
    assert.deepEqual(back.details, [{ approver: '\ud800' }]);
  });
});
