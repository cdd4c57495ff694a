import assert from 'node:assert/strict';
import { REFUSAL_TYPES, type RefusalType } from '../../src/contracts';
import {
  API_ERROR_HTTP_STATUS,
  ApiError,
  ERROR_TYPES,
  ErrorBodySchema,
  REFUSAL_HTTP_STATUS,
  refusalToHttp,
  statusOfErrorType,
} from '../../src/server/http-errors';

describe('HTTP error mapping', () => {
  it('maps every refusal type like LibreChat’s resume route', () => {
    const expected: Record<RefusalType, number> = {
      InvalidResolution: 400,
      UndecidedToolCalls: 400,
      IncompleteDecision: 400,
      AnswerRequired: 400,
      AnswerTooLong: 400,
      InvalidElicitationContent: 400,
      UnknownQuestionId: 400,
      NotAuthorized: 403,
      DecisionNotPermitted: 403,
      StaleAction: 409,
      AlreadyResolved: 409,
      ActionExpired: 409,
      NoPendingAction: 409,
    };
    assert.deepEqual(REFUSAL_HTTP_STATUS, expected);
    assert.deepEqual(
      Object.keys(REFUSAL_HTTP_STATUS).sort(),
      [...REFUSAL_TYPES].sort(),
      'one entry per wire refusal type',
    );
  });

  it('refusalToHttp: status and { error, type, details } body', () => {
    assert.deepEqual(
      refusalToHttp({
        type: 'UndecidedToolCalls',
        message: 'No decision for call_2',
        details: { tool_call_ids: ['call_2'] },
      }),
      {
        status: 400,
        body: { error: 'No decision for call_2', type: 'UndecidedToolCalls', details: { tool_call_ids: ['call_2'] } },
      },
    );
    assert.deepEqual(refusalToHttp({ type: 'StaleAction', message: 'old' }), {
      status: 409,
      body: { error: 'old', type: 'StaleAction', details: {} },
    });
    for (const type of REFUSAL_TYPES) {
      const { status, body } = refusalToHttp({ type, message: type });
      assert.ok([400, 403, 409].includes(status), type);
      assert.ok(ErrorBodySchema.safeParse(body).success, type);
    }
  });

  it('DecisionNotPermitted: 403 for a decision the call does not allow, 400 for a call the action does not have', () => {
    assert.equal(
      refusalToHttp({
        type: 'DecisionNotPermitted',
        message: '"edit" is not allowed for call_1 (allowed: approve, reject)',
        details: { tool_call_id: 'call_1', allowed_decisions: ['approve', 'reject'] },
      }).status,
      403,
    );
    assert.equal(
      refusalToHttp({
        type: 'DecisionNotPermitted',
        message: 'Unknown tool_call_id "call_9"',
        details: { tool_call_id: 'call_9' },
      }).status,
      400,
    );
    assert.equal(
      refusalToHttp({ type: 'DecisionNotPermitted', message: 'A question is answered with "answer"' }).status,
      400,
    );
  });

  it('API errors: 401 Unauthorized, 404 RunNotFound, 409 RunClosed, 413 PayloadTooLarge, 503 TemporalUnavailable', () => {
    assert.equal(API_ERROR_HTTP_STATUS.Unauthorized, 401);
    assert.equal(API_ERROR_HTTP_STATUS.RunNotFound, 404);
    assert.equal(API_ERROR_HTTP_STATUS.InvalidInput, 400);
    assert.equal(API_ERROR_HTTP_STATUS.RunClosed, 409);
    assert.equal(API_ERROR_HTTP_STATUS.PayloadTooLarge, 413);
    assert.equal(API_ERROR_HTTP_STATUS.TemporalUnavailable, 503);
    assert.equal(new Set(ERROR_TYPES).size, ERROR_TYPES.length, 'API error types do not reuse refusal names');
    for (const type of ERROR_TYPES) assert.equal(typeof statusOfErrorType(type), 'number', type);
  });

  it('ApiError carries its status and body', () => {
    const error = new ApiError('NotAuthorized', 'nope', { sub: 'mallory' });
    assert.equal(error.statusCode, 403);
    assert.deepEqual(error.body, { error: 'nope', type: 'NotAuthorized', details: { sub: 'mallory' } });
    assert.deepEqual(new ApiError('RunNotFound', 'gone').body.details, {});
    assert.equal(new ApiError('PayloadTooLarge', 'big').statusCode, 413);
  });
});
