// The HTTP API on runs paused by an MCP elicitation: the pending payload as the run has it (GET and SSE), the
// `elicitation` body of the resolve route, InvalidElicitationContent as 400 with details, the approver from the
// token. The paused runs come from `pauseWithElicitation` (test/support/elicitation.ts: real runs whose MCP
// tool call elicits).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { PendingAction, ResolveResult, RunState } from '../../src/contracts';
import { buildApi, issueDevToken, type ErrorBody, type RunView } from '../../src/server';
import {
  CONTACT_FORM,
  elicitationOutcome,
  pauseWithElicitation,
  startElicitationHarness,
  type ElicitationHarness,
} from '../support/elicitation';
import { openSse, request, type ApiResponse, type SseEvent } from './client';

const SECRET = randomBytes(32).toString('base64url');

describe('HTTP API: MCP elicitation (real server, real dev server)', function () {
  this.timeout(120_000);
  let h: ElicitationHarness;
  let app: FastifyInstance;
  let base: string;
  const tokens: Record<string, string> = {};

  const get = <T>(sub: string, path: string) => request<T>(base, 'GET', path, { token: tokens[sub]! });
  const post = <T>(sub: string, path: string, body: unknown): Promise<ApiResponse<T>> =>
    request<T>(base, 'POST', path, { token: tokens[sub]!, body });

  async function expectRefusal(
    sub: string,
    runId: string,
    body: unknown,
    status: number,
    type: string,
  ): Promise<ErrorBody> {
    const res = await post<ErrorBody>(sub, `/runs/${runId}/resolve`, body);
    assert.equal(res.body.type, type, JSON.stringify(res.body));
    assert.equal(res.status, status, `${type} → ${status}`);
    return res.body;
  }

  before(async () => {
    h = await startElicitationHarness();
    app = buildApi({
      client: h.client,
      auth: { kind: 'secret', secret: SECRET },
      events: { pollIntervalMs: 100, heartbeatMs: 1000 },
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const sub of ['u1', 'boss', 'mallory']) tokens[sub] = await issueDevToken(SECRET, sub, 600);
  });
  after(async () => {
    await app?.close();
    await h?.stop();
  });

  it('GET /pending, GET /runs/:id and the SSE pause show the payload exactly as the run has it', async () => {
    const note = { type: 'string' as const, title: 'Note' };
    const requestedSchema = { ...CONTACT_FORM, properties: { ...CONTACT_FORM.properties, note } };
    const { runId, pending } = await pauseWithElicitation(h, {
      userId: 'u1',
      message: 'Which contact should I add? <b>not markup</b>',
      // A keyword MCP does not define: the client SDK drops it when it checks the server's request.
      requestedSchema: {
        ...CONTACT_FORM,
        properties: { ...CONTACT_FORM.properties, note: { ...note, 'x-widget': 'textarea' } },
      },
    });
    assert.deepEqual(pending.payload, {
      type: 'mcp_elicitation',
      tool_call_id: 'call_1',
      name: 'create_contact_mcp_crm',
      server: 'crm',
      message: 'Which contact should I add? <b>not markup</b>',
      requestedSchema,
    });
    const res = await get<{ pendingAction: PendingAction | null }>('u1', `/runs/${runId}/pending`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.pendingAction, pending);
    const view = await get<RunView>('u1', `/runs/${runId}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.status, 'requires_action');
    assert.deepEqual(view.body.pendingAction, pending);
    assert.equal(view.body.caller.approver, true);

    const stream = await openSse(`${base}/runs/${runId}/events`, tokens.u1);
    try {
      let pause: SseEvent | undefined;
      while (!pause) {
        const event = await stream.next();
        assert.ok(event, 'the stream ended before the pause');
        if (event.event === 'pending_action') pause = event;
      }
      assert.deepEqual(pause.data, pending);
    } finally {
      stream.close();
    }
    await h.client.abort(runId);
  });

  it('resolve: InvalidElicitationContent is 400 with the problems by field, and the action stays pending; then accepted', async () => {
    const { runId, pending } = await pauseWithElicitation(h, { userId: 'u1', requestedSchema: CONTACT_FORM });
    const { actionId } = pending;
    const invalid = await expectRefusal(
      'u1',
      runId,
      {
        actionId,
        elicitation: { action: 'accept', content: { name: 'Ada', email: 'ada@', plan: 'gold', seats: 0, topics: [] } },
      },
      400,
      'InvalidElicitationContent',
    );
    assert.deepEqual(invalid.details, {
      problems: [
        { field: 'email', message: '"email" must be an email address' },
        { field: 'seats', message: '"seats" must be at least 1' },
        { field: 'plan', message: '"plan" must be one of free, pro, team' },
        { field: 'topics', message: '"topics" needs at least 1 choices' },
      ],
    });
    assert.match(invalid.error, /^The content does not match the requested form: "email" must be an email address; /);
    const missing = await expectRefusal(
      'u1',
      runId,
      { actionId, elicitation: { action: 'accept', content: { name: 'Ada' } } },
      400,
      'InvalidElicitationContent',
    );
    assert.deepEqual(
      (missing.details.problems as { field: string }[]).map((p) => p.field),
      ['email', 'plan'],
    );
    await expectRefusal('u1', runId, { actionId }, 400, 'InvalidElicitationContent');
    const declineWithContent = await expectRefusal(
      'u1',
      runId,
      { actionId, elicitation: { action: 'decline', content: { name: 'Ada' } } },
      400,
      'InvalidElicitationContent',
    );
    assert.equal(declineWithContent.error, '"decline" takes no content');
    const decisions = await expectRefusal(
      'u1',
      runId,
      { actionId, decisions: [{ tool_call_id: 'call_1', decision: 'approve' }] },
      400,
      'DecisionNotPermitted',
    );
    assert.match(decisions.error, /answered with "elicitation"/);
    // Shape errors never reach the run: refused by the API's schema, naming the field.
    const shape = await expectRefusal(
      'u1',
      runId,
      { actionId, elicitation: { action: 'ok' } },
      400,
      'InvalidResolution',
    );
    assert.match(shape.error, /elicitation\.action/);
    await expectRefusal(
      'u1',
      runId,
      { actionId, elicitation: { action: 'accept', content: { name: { first: 'Ada' } } } },
      400,
      'InvalidResolution',
    );
    await expectRefusal('u1', runId, { actionId: 'act-old', elicitation: { action: 'cancel' } }, 409, 'StaleAction');

    const still = await get<{ pendingAction: PendingAction | null }>('u1', `/runs/${runId}/pending`);
    assert.equal(still.body.pendingAction?.actionId, actionId, 'the action stays pending');
    const state = (await get<RunState>('u1', `/runs/${runId}`)).body;
    assert.deepEqual(
      state.decisions.map((d) => d.refusal?.type),
      [
        'InvalidElicitationContent',
        'InvalidElicitationContent',
        'InvalidElicitationContent',
        'InvalidElicitationContent',
        'DecisionNotPermitted',
        'StaleAction',
      ],
      'the run judged (and audited) every refusal but the malformed ones',
    );

    const content = { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'team', topics: ['security'] };
    const ok = await post<ResolveResult>('u1', `/runs/${runId}/resolve`, {
      actionId,
      elicitation: { action: 'accept', content },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { actionId, status: 'running', decidedBy: 'u1' });
    assert.deepEqual(await elicitationOutcome(h, runId), {
      elicitation: { action: 'accept', content },
      decidedBy: 'u1',
    });
    await expectRefusal('u1', runId, { actionId, elicitation: { action: 'cancel' } }, 409, 'NoPendingAction');
  });

  it('the approver is the token subject: approver and approverClaims in the body are ignored', async () => {
    const { runId, pending } = await pauseWithElicitation(h, { userId: 'u1', approvers: ['boss'] });
    const body = {
      actionId: pending.actionId,
      elicitation: { action: 'decline' },
      approver: 'boss',
      approverClaims: { role: 'approver' },
    };
    await expectRefusal('mallory', runId, body, 404, 'RunNotFound');
    const owner = await expectRefusal('u1', runId, body, 403, 'NotAuthorized');
    assert.match(owner.error, /"u1" is not an approver/);
    const ok = await post<ResolveResult>('boss', `/runs/${runId}/resolve`, { ...body, approver: 'u1' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.decidedBy, 'boss');
    assert.deepEqual(await elicitationOutcome(h, runId), { elicitation: { action: 'decline' }, decidedBy: 'boss' });
  });

  it('URL mode: accepted ("done") without content; content is refused', async () => {
    const { runId, pending } = await pauseWithElicitation(h, {
      userId: 'u1',
      server: 'github',
      message: 'Sign in to GitHub to continue',
      mode: 'url',
      url: 'https://github.example/login/device',
    });
    assert.equal(
      pending.payload.type === 'mcp_elicitation' && pending.payload.url,
      'https://github.example/login/device',
    );
    const refused = await expectRefusal(
      'u1',
      runId,
      { actionId: pending.actionId, elicitation: { action: 'accept', content: { code: '1234' } } },
      400,
      'InvalidElicitationContent',
    );
    assert.equal(refused.error, 'A URL elicitation is accepted without content');
    const ok = await post<ResolveResult>('u1', `/runs/${runId}/resolve`, {
      actionId: pending.actionId,
      elicitation: { action: 'accept' },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await elicitationOutcome(h, runId), { elicitation: { action: 'accept' }, decidedBy: 'u1' });
  });

  it('the OpenAPI document describes the elicitation body from the zod contract', async () => {
    const res = await request<{
      paths: Record<
        string,
        Record<string, { description?: string; requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    }>(base, 'GET', '/openapi.json');
    const route = res.body.paths['/runs/{runId}/resolve']!.post!;
    const schema = route.requestBody!.content['application/json']!.schema as {
      properties: Record<string, { description?: string; properties?: Record<string, unknown>; required?: string[] }>;
    };
    const elicitation = schema.properties.elicitation!;
    assert.match(elicitation.description ?? '', /mcp_elicitation/);
    assert.deepEqual(elicitation.properties?.action, { type: 'string', enum: ['accept', 'decline', 'cancel'] });
    assert.deepEqual(elicitation.required, ['action']);
    const content = elicitation.properties?.content as { additionalProperties: { anyOf: { type: string }[] } };
    assert.deepEqual(
      content.additionalProperties.anyOf.map((s) => s.type),
      ['string', 'number', 'boolean', 'array'],
    );
    assert.equal(schema.properties.approver, undefined, 'the approver comes from the token');
    assert.equal(schema.properties.approverClaims, undefined, 'and so do the claims');
    assert.match(route.description ?? '', /InvalidElicitationContent/);
    const pendingRoute = JSON.stringify(res.body.paths['/runs/{runId}/pending']);
    assert.match(pendingRoute, /"mcp_elicitation"/, 'the pending payload schema has the new action type');
  });
});
