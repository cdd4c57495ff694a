// diffRunState: which server-sent events a state change produces, and in which order.
import assert from 'node:assert/strict';
import type { PendingAction, RunState } from '../../src/contracts';
import { diffRunState, newCursor } from '../../src/server/events';

const pending = (actionId: string): PendingAction => ({
  actionId,
  runId: 'run-1',
  userId: 'u1',
  conversationId: 'c1',
  createdAt: '2026-11-24T10:00:00.000Z',
  expiresAt: '2026-11-25T10:00:00.000Z',
  payload: {
    type: 'tool_approval',
    action_requests: [{ tool_call_id: 'call_1', name: 'delete_file', arguments: { path: 'a' } }],
    review_configs: [{ tool_call_id: 'call_1', action_name: 'delete_file', allowed_decisions: ['approve'] }],
  },
});

function state(overrides: Partial<RunState>): RunState {
  return {
    status: 'running',
    turn: 0,
    pendingAction: null,
    messages: [{ role: 'user', content: 'hi' }],
    decisions: [],
    ...overrides,
  };
}

const tool = (id: string) => ({
  role: 'tool' as const,
  tool_call_id: id,
  name: 'delete_file',
  status: 'success' as const,
  content: 'ok',
});

describe('run events: diffRunState', () => {
  it('first snapshot: status, then the pending action', () => {
    const cursor = newCursor();
    const events = diffRunState(cursor, state({ status: 'requires_action', turn: 1, pendingAction: pending('a1') }));
    assert.deepEqual(
      events.map((e) => e.event),
      ['status', 'pending_action'],
    );
    assert.deepEqual(events[0]?.data, { status: 'requires_action', turn: 1 });
    assert.equal((events[1]?.data as PendingAction).actionId, 'a1');
  });

  it('nothing new, nothing sent; a new action is announced once', () => {
    const cursor = newCursor();
    diffRunState(cursor, state({ status: 'requires_action', pendingAction: pending('a1') }));
    assert.deepEqual(diffRunState(cursor, state({ status: 'requires_action', pendingAction: pending('a1') })), []);
    const next = diffRunState(cursor, state({ status: 'requires_action', pendingAction: pending('a2') }));
    assert.deepEqual(
      next.map((e) => e.event),
      ['pending_action'],
    );
  });

  it('resume: new tool results first (in transcript order), then the status change', () => {
    const cursor = newCursor();
    diffRunState(cursor, state({ status: 'requires_action', pendingAction: pending('a1') }));
    const events = diffRunState(
      cursor,
      state({
        status: 'completed',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', tool_calls: [] },
          tool('call_1'),
          tool('call_2'),
          { role: 'assistant', content: 'done' },
        ],
      }),
    );
    assert.deepEqual(
      events.map((e) => [e.event, (e.data as { tool_call_id?: string; status?: string }).tool_call_id ?? e.data]),
      [
        ['tool_result', 'call_1'],
        ['tool_result', 'call_2'],
        ['status', { status: 'completed', turn: 0 }],
      ],
    );
    assert.equal(cursor.nextSeq, 5);
    assert.deepEqual(
      diffRunState(cursor, state({ status: 'completed', messages: [tool('call_1'), tool('call_2')] })),
      [],
    );
  });

  it('follows a window of the latest messages by position: each tool result once, however the window moves', () => {
    const cursor = newCursor();
    diffRunState(cursor, state({ messages: [tool('a'), tool('b')], messagesFrom: 0, messagesTotal: 2 }));
    // The window moved on by three: positions 2..4 are new, 1 was sent already.
    const events = diffRunState(
      cursor,
      state({ messages: [tool('b'), tool('c'), tool('d'), tool('e')], messagesFrom: 1, messagesTotal: 5 }),
    );
    assert.deepEqual(
      events.filter((e) => e.event === 'tool_result').map((e) => (e.data as { tool_call_id: string }).tool_call_id),
      ['c', 'd', 'e'],
    );
    assert.equal(cursor.nextSeq, 5);
  });
});
