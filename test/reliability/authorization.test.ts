// Scenario 7: authorization through the HTTP API process (and the client): non-approvers, forged identities
// in the body, bad JWTs of every kind, tokens of other users, filter injection. All refused, and nothing of
// another user's run (markers planted in its messages, arguments and conversation id) leaks through list,
// read or SSE.
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { HitlClient } from '../../src/client';
import type { PendingAction } from '../../src/contracts';
import { startCluster, taskQueueFor, type ApiHandle, type Cluster } from './support/cluster';
import type { ChildHandle } from './support/processes';
import { runInput, scanHistories, startRuns, waitAllPaused } from './support/runs';
import { figure, until } from './support/suite';

interface RawResponse {
  status: number;
  text: string;
}

/** One request; the body is read as text (an SSE stream for at most `streamMs`). */
async function call(
  base: string,
  method: string,
  route: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; streamMs?: number } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.streamMs ?? 15_000);
  try {
    const response = await fetch(`${base}${route}`, {
      method,
      headers,
      signal: controller.signal,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    let text = '';
    try {
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value as Uint8Array, { stream: true });
      }
    } catch {
      // the stream was cut by our timer: what arrived so far is the body
    }
    return { status: response.status, text };
  } finally {
    clearTimeout(timer);
  }
}

/** An HS* JWT built by hand, so every malformation can be made (no library refuses to sign it). */
function jwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | undefined): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const data = `${encode(header)}.${encode(payload)}`;
  if (secret === undefined) return `${data}.`;
  const algorithm = header.alg === 'HS512' ? 'sha512' : 'sha256';
  return `${data}.${createHmac(algorithm, secret).update(data).digest('base64url')}`;
}

describe('reliability: authorization (HTTP API process, JWT)', function () {
  this.timeout(5 * 60_000);
  let cluster: Cluster;
  let worker: ChildHandle;
  let api: ApiHandle;
  let hitl: HitlClient;
  const taskQueue = taskQueueFor('authz');

  before(async () => {
    cluster = await startCluster('authz');
    const sandboxDir = path.join(cluster.dir, 'sandbox-authz');
    [worker, api] = await Promise.all([
      cluster.startWorker({ taskQueue, sandboxDir }),
      cluster.startApi({ taskQueue }),
    ]);
    hitl = cluster.hitl(taskQueue);
  });
  after(async () => {
    await worker?.kill();
    await cluster?.close();
  });

  it('authorization: every unauthorized attempt is refused and nothing of another user leaks', async () => {
    const marker = `SECRET-${randomUUID()}`;
    const carolMarker = `CAROL-${randomUUID()}`;
    const secretRun = (owner: string, approvers: string[], mark: string) =>
      runInput(
        owner,
        [
          {
            tool_calls: [
              { id: 'call_1', name: 'append_file', arguments: { path: `${mark}.txt`, content: `${mark}\n` } },
            ],
          },
        ],
        { conversationId: `conv-${mark}`, approvers, messages: [{ role: 'user', content: `my secret is ${mark}` }] },
      );
    // r1: alice's, approvers alice and bob. r2: alice's, only bob may approve. r3: carol's.
    const [r1, r2, r3] = await startRuns(hitl, [
      secretRun('alice', ['alice', 'bob'], marker),
      secretRun('alice', ['bob'], marker),
      secretRun('carol', ['carol'], carolMarker),
    ]);
    const pending = await waitAllPaused(hitl, [r1!, r2!, r3!], 60_000);
    await until(
      async () => (await hitl.listRuns({ userId: 'alice', status: 'requires_action' })).length === 2,
      'visibility',
      30_000,
    );
    const tokens = {
      alice: await api.token('alice'),
      bob: await api.token('bob'),
      carol: await api.token('carol'),
      mallory: await api.token('mallory'),
    };
    const approve = (action: PendingAction, approver?: string) => ({
      actionId: action.actionId,
      ...(approver !== undefined ? { approver } : {}),
      decisions: [{ tool_call_id: 'call_1', decision: 'approve' }],
    });

    let attempts = 0;
    let refused = 0;
    let leaks = 0;
    const problems: string[] = [];
    /** An attempt that must be refused with one of `statuses`, and whose answer must not carry alice's secrets. */
    const expectRefused = (what: string, res: RawResponse, statuses: number[]) => {
      attempts += 1;
      if (statuses.includes(res.status)) refused += 1;
      else problems.push(`${what}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
      if (res.text.includes(marker)) {
        leaks += 1;
        problems.push(`${what}: leaked alice's run: ${res.text.slice(0, 200)}`);
      }
    };

    // ---- bad tokens, on every route ----
    const now = Math.floor(Date.now() / 1000);
    const other = randomBytes(32).toString('base64url');
    const hs = { alg: 'HS256', typ: 'JWT' };
    const badTokens: Record<string, string> = {
      expired: jwt(hs, { sub: 'alice', iat: now - 7200, exp: now - 3600 }, api.secret),
      'wrongly signed': jwt(hs, { sub: 'alice', exp: now + 600 }, other),
      'alg none': jwt({ alg: 'none', typ: 'JWT' }, { sub: 'alice', exp: now + 600 }, undefined),
      'HS512 (algorithm not accepted)': jwt({ alg: 'HS512', typ: 'JWT' }, { sub: 'alice', exp: now + 600 }, api.secret),
      'no sub': jwt(hs, { exp: now + 600 }, api.secret),
      'empty sub': jwt(hs, { sub: '', exp: now + 600 }, api.secret),
      'sub not a string': jwt(hs, { sub: ['alice'], exp: now + 600 }, api.secret),
      'no exp': jwt(hs, { sub: 'alice' }, api.secret),
      'not yet valid': jwt(hs, { sub: 'alice', exp: now + 7200, nbf: now + 3600 }, api.secret),
      'tampered payload': (() => {
        const [h, , s] = tokens.mallory.split('.');
        return `${h}.${Buffer.from(JSON.stringify({ sub: 'alice', exp: now + 600 })).toString('base64url')}.${s}`;
      })(),
      garbage: 'a.b.c',
    };
    const routes: [string, string, unknown?][] = [
      ['GET', '/runs'],
      ['POST', '/runs', secretRun('alice', ['alice'], 'x')],
      ['GET', `/runs/${r1}`],
      ['GET', `/runs/${r1}/pending`],
      ['POST', `/runs/${r1}/resolve`, approve(pending.get(r1!)!)],
      ['POST', `/runs/${r1}/abort`, {}],
      ['GET', `/runs/${r1}/events`],
    ];
    for (const [kind, token] of Object.entries(badTokens)) {
      for (const [method, route, body] of routes) {
        expectRefused(`${kind} token: ${method} ${route}`, await call(api.url, method, route, { token, body }), [401]);
      }
      expectRefused(
        `${kind} token as ?access_token`,
        await call(api.url, 'GET', `/runs/${r1}/events?access_token=${encodeURIComponent(token)}`),
        [401],
      );
    }
    expectRefused('no token: GET /runs', await call(api.url, 'GET', '/runs'), [401]);

    // ---- valid tokens of people who have nothing to do with alice's runs ----
    for (const who of ['carol', 'mallory'] as const) {
      const token = tokens[who];
      for (const runId of [r1!, r2!]) {
        expectRefused(`${who}: read ${runId}`, await call(api.url, 'GET', `/runs/${runId}`, { token }), [403, 404]);
        expectRefused(`${who}: pending`, await call(api.url, 'GET', `/runs/${runId}/pending`, { token }), [403, 404]);
        expectRefused(
          `${who}: events`,
          await call(api.url, 'GET', `/runs/${runId}/events`, { token, streamMs: 3000 }),
          [403, 404],
        );
        expectRefused(
          `${who}: events ?access_token`,
          await call(api.url, 'GET', `/runs/${runId}/events?access_token=${token}`, { streamMs: 3000 }),
          [403, 404],
        );
        // A forged approver in the body changes nothing: the approver is the token's subject.
        expectRefused(
          `${who}: resolve with a forged approver`,
          await call(api.url, 'POST', `/runs/${runId}/resolve`, { token, body: approve(pending.get(runId)!, 'alice') }),
          [403],
        );
        expectRefused(`${who}: abort`, await call(api.url, 'POST', `/runs/${runId}/abort`, { token, body: {} }), [403]);
      }
      expectRefused(
        `${who}: start a run for alice`,
        await call(api.url, 'POST', '/runs', { token, body: secretRun('alice', ['alice'], 'y') }),
        [403],
      );
      // Listing shows the caller's own runs only, whatever the filters try.
      for (const query of [
        '',
        '?status=requires_action',
        `?conversationId=${encodeURIComponent(`conv-${marker}`)}`,
        `?conversationId=${encodeURIComponent('x" OR HitlUserId="alice')}`,
        `?tool=${encodeURIComponent('append_file" OR HitlUserId="alice')}`,
        `?status=${encodeURIComponent('requires_action" OR HitlUserId="alice')}`,
        `?limit=1000&userId=alice`,
      ]) {
        const res = await call(api.url, 'GET', `/runs${query}`, { token });
        attempts += 1;
        const listed = res.status === 200 ? (JSON.parse(res.text) as { runs: { userId: string | null }[] }).runs : [];
        const foreign = listed.filter((run) => run.userId !== who).length;
        if ((res.status === 200 || res.status === 400) && foreign === 0) refused += 1;
        else
          problems.push(
            `${who}: GET /runs${query}: HTTP ${res.status}, ${foreign} foreign runs: ${res.text.slice(0, 200)}`,
          );
        if (res.text.includes(marker)) {
          leaks += 1;
          problems.push(`${who}: GET /runs${query} leaked alice's run`);
        }
      }
    }
    // carol's own listing shows exactly her run (a positive control for the filter).
    const carolList = JSON.parse((await call(api.url, 'GET', '/runs', { token: tokens.carol })).text) as {
      runs: { runId: string }[];
    };
    assert.deepEqual(
      carolList.runs.map((run) => run.runId),
      [r3],
    );

    // ---- the owner who is not an approver, forging the approver in the body; an approver aborting ----
    expectRefused(
      'alice resolves r2 (only bob approves it) with approver "bob" in the body',
      await call(api.url, 'POST', `/runs/${r2}/resolve`, {
        token: tokens.alice,
        body: approve(pending.get(r2!)!, 'bob'),
      }),
      [403],
    );
    expectRefused(
      'bob (approver, not owner) aborts r1',
      await call(api.url, 'POST', `/runs/${r1}/abort`, { token: tokens.bob, body: {} }),
      [403],
    );
    // Through the client: an identity that is not an approver, and one that differs only by case or spaces.
    for (const approver of ['mallory', 'Alice', 'alice ', 'bob\u200b', 'carol']) {
      attempts += 1;
      const outcome = await hitl.resolve(r1!, approve(pending.get(r1!)!, approver) as never);
      if (!outcome.ok && outcome.refusal.type === 'NotAuthorized') refused += 1;
      else problems.push(`client as ${JSON.stringify(approver)}: ${JSON.stringify(outcome)}`);
    }

    // ---- idempotency keys are per caller: alice's answer is never handed to someone else ----
    const key = { 'idempotency-key': 'same-key-for-everyone' };
    const aliceWins = await call(api.url, 'POST', `/runs/${r1}/resolve`, {
      token: tokens.alice,
      body: approve(pending.get(r1!)!),
      headers: key,
    });
    assert.equal(aliceWins.status, 200, aliceWins.text);
    expectRefused(
      'carol replays alice’s idempotency key',
      await call(api.url, 'POST', `/runs/${r1}/resolve`, {
        token: tokens.carol,
        body: approve(pending.get(r1!)!),
        headers: key,
      }),
      [403],
    );
    const bobSameKey = await call(api.url, 'POST', `/runs/${r1}/resolve`, {
      token: tokens.bob,
      body: approve(pending.get(r1!)!),
      headers: key,
    });
    attempts += 1;
    if (bobSameKey.status === 409 && (JSON.parse(bobSameKey.text) as { type: string }).type === 'AlreadyResolved')
      refused += 1;
    else problems.push(`bob with alice's key: ${bobSameKey.status} ${bobSameKey.text}`);

    // ---- positive controls: the marker is visible to those allowed to see it, and they can act ----
    const aliceReads = await call(api.url, 'GET', `/runs/${r2}`, { token: tokens.alice });
    const aliceStream = await call(api.url, 'GET', `/runs/${r2}/events`, { token: tokens.alice, streamMs: 2500 });
    assert.ok(aliceReads.text.includes(marker) && aliceStream.text.includes(marker), 'the owner sees her own run');
    const bobResolves = await call(api.url, 'POST', `/runs/${r2}/resolve`, {
      token: tokens.bob,
      body: approve(pending.get(r2!)!, 'alice'),
    });
    assert.equal(bobResolves.status, 200, bobResolves.text);
    assert.equal((JSON.parse(bobResolves.text) as { decidedBy: string }).decidedBy, 'bob');
    const carolResolves = await call(api.url, 'POST', `/runs/${r3}/resolve`, {
      token: tokens.carol,
      body: approve(pending.get(r3!)!),
    });
    assert.equal(carolResolves.status, 200, carolResolves.text);
    const results = await Promise.all([r1!, r2!, r3!].map((runId) => hitl.result(runId)));

    // The audit logs: only alice and bob were ever accepted on alice's runs; the refused attempts are recorded.
    const r1Audit = (await hitl.getRunState(r1!)).decisions;
    const r2Audit = (await hitl.getRunState(r2!)).decisions;
    const acceptedBy = [...r1Audit, ...r2Audit].filter((e) => e.outcome === 'accepted').map((e) => e.approver);
    const scan = await scanHistories(cluster.client, [r1!, r2!, r3!]);
    figure(
      `authorization: ${attempts} unauthorized attempts (${Object.keys(badTokens).length} kinds of bad JWT on every route, ` +
        `other users' tokens, forged body identities, filter injection, foreign idempotency keys), ${refused} refused, ` +
        `${attempts - refused} let through, ${leaks} leaks of another user's run through list, read or SSE`,
    );

    assert.deepEqual(problems.slice(0, 20), []);
    assert.equal(refused, attempts);
    assert.equal(leaks, 0);
    assert.deepEqual(acceptedBy.sort(), ['alice', 'bob']);
    assert.ok(
      r2Audit.some((e) => e.outcome === 'refused' && e.approver === 'alice' && e.refusal?.type === 'NotAuthorized'),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['completed', 'completed', 'completed'],
    );
    assert.equal(scan.workflowTaskFailures, 0, scan.failures.join('\n'));
  });
});
