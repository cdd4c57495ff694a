import assert from 'node:assert/strict';
import {
  call,
  eventually,
  maybeRecordHistory,
  readSandboxFile,
  scriptedInput,
  startHarness,
  toolMessages,
  waitForPending,
  type Harness,
} from './harness';

const TOOLS = ['ask_user_question', 'append_file', 'list_files'];

describe('ask_user_question (real dev server)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.stop();
  });

  it('a single question pauses the run; the answer goes back as {"answer": …}', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_q', 'ask_user_question', {
                question: 'Which folder should I clean?',
                header: 'Folder',
                options: [
                  { label: 'Downloads', value: 'downloads' },
                  { label: 'Desktop', value: 'desktop' },
                ],
              }),
            ],
          },
          { content: 'Cleaning downloads.' },
        ],
        { tools: TOOLS },
      ),
    );
    const pending = await waitForPending(h.client, runId);
    assert.equal(pending.payload.type, 'ask_user_question');
    if (pending.payload.type !== 'ask_user_question') return;
    assert.equal(pending.payload.tool_call_id, 'call_q');
    assert.equal(pending.payload.question.question, 'Which folder should I clean?');
    assert.equal(pending.payload.questions, undefined);
    const listed = await eventually(async () => {
      const runs = await h.client.listRuns({ userId: 'u1', status: 'requires_action', tool: 'ask_user_question' });
      return runs.find((r) => r.runId === runId);
    }, 'the question run in visibility');
    assert.deepEqual(listed.pendingTools, ['ask_user_question']);

    const outcome = await h.client.resolve(runId, { actionId: pending.actionId, approver: 'u1', answer: 'downloads' });
    assert.ok(outcome.ok);
    const result = await h.client.result(runId);
    assert.deepEqual(
      toolMessages(result.messages).map((t) => [t.tool_call_id, t.status, JSON.parse(t.content) as unknown]),
      [['call_q', 'success', { answer: 'downloads' }]],
    );
    await maybeRecordHistory(h, runId, 'question-single');
  });

  it('a batch: every limit on answers is refused with its type, the run stays paused, then answers go back', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_b', 'ask_user_question', {
                questions: [
                  {
                    id: 'q1',
                    question: 'Keep backups?',
                    options: [
                      { label: 'Yes', value: 'yes' },
                      { label: 'No', value: 'no' },
                    ],
                  },
                  {
                    id: 'q2',
                    question: 'Which file types?',
                    multiSelect: true,
                    options: [
                      { label: 'PDF', value: 'pdf' },
                      { label: 'Images', value: 'images' },
                      { label: 'Logs', value: 'logs' },
                    ],
                  },
                ],
              }),
            ],
          },
        ],
        { tools: TOOLS },
      ),
    );
    const pending = await waitForPending(h.client, runId);
    assert.equal(pending.payload.type, 'ask_user_question');
    if (pending.payload.type !== 'ask_user_question') return;
    assert.deepEqual(
      pending.payload.questions?.map((q) => q.id),
      ['q1', 'q2'],
    );
    const refusal = async (resolution: Record<string, unknown>) => {
      const outcome = await h.client.resolve(runId, { actionId: pending.actionId, approver: 'u1', ...resolution });
      assert.ok(!outcome.ok, JSON.stringify(resolution).slice(0, 100));
      return outcome.refusal.type;
    };
    assert.equal(await refusal({}), 'AnswerRequired');
    assert.equal(await refusal({ answers: { q1: 'yes' } }), 'AnswerRequired');
    assert.equal(await refusal({ answers: { q1: 'yes', q2: [] } }), 'AnswerRequired');
    assert.equal(await refusal({ answers: { q1: '   ', q2: 'pdf' } }), 'AnswerRequired');
    assert.equal(await refusal({ answers: { q1: 'yes', q2: 'x'.repeat(16_001) } }), 'AnswerTooLong');
    assert.equal(await refusal({ answers: { q1: 'yes', q2: 'pdf', q3: 'extra' } }), 'UnknownQuestionId');
    assert.equal(
      await refusal({ answers: JSON.parse('{"q1":"yes","q2":"pdf","__proto__":"x"}') as Record<string, unknown> }),
      'UnknownQuestionId',
    );
    assert.equal(
      await refusal({ decisions: [{ tool_call_id: 'call_b', decision: 'approve' }] }),
      'DecisionNotPermitted',
    );
    assert.equal((await h.client.getPendingAction(runId))?.actionId, pending.actionId, 'still paused');

    const ok = await h.client.resolve(runId, {
      actionId: pending.actionId,
      approver: 'u1',
      answers: { q1: 'yes', q2: ['pdf', 'logs'] },
    });
    assert.ok(ok.ok);
    const result = await h.client.result(runId);
    const [answer] = toolMessages(result.messages);
    assert.equal(answer?.status, 'success');
    assert.deepEqual(JSON.parse(answer?.content ?? ''), { answers: { q1: 'yes', q2: 'pdf, logs' } });
    await maybeRecordHistory(h, runId, 'question-batch');
  });

  it('invalid questions from the model become an error tool message; nothing pauses', async () => {
    const bad = [
      { question: '' },
      { question: 'x'.repeat(2001) },
      { question: 'q', header: 'h'.repeat(81) },
      { question: 'q', description: 'd'.repeat(4001) },
      { question: 'q', options: Array.from({ length: 13 }, (_, i) => ({ label: `o${i}`, value: `${i}` })) },
      { question: 'q', options: [{ label: 'l'.repeat(281), value: 'v' }] },
      { question: 'q', options: [{ label: 'l', value: 'v'.repeat(501) }] },
      { questions: [] },
      { questions: Array.from({ length: 5 }, (_, i) => ({ id: `q${i}`, question: 'q' })) },
      {
        questions: [
          { id: 'q1', question: 'a' },
          { id: 'q1', question: 'b' },
        ],
      },
      { questions: [{ id: '1abc', question: 'a' }] },
      { questions: [{ id: `q${'x'.repeat(64)}`, question: 'a' }] },
    ];
    const { runId } = await h.client.startRun(
      scriptedInput(
        [{ tool_calls: bad.map((args, i) => call(`call_${i}`, 'ask_user_question', args)) }, { content: 'ok' }],
        {
          tools: TOOLS,
        },
      ),
    );
    const result = await h.client.result(runId);
    assert.equal(result.status, 'completed');
    const tools = toolMessages(result.messages);
    assert.equal(tools.length, bad.length);
    for (const tool of tools) {
      assert.equal(tool.status, 'error', tool.tool_call_id);
      assert.match(tool.content, /^Invalid arguments for "ask_user_question"/);
    }
    const state = await h.client.getRunState(runId);
    assert.equal(state.decisions.length, 0, 'no pause, no decisions');
  });

  it('a turn that mixes a question with an approval: approval first, then the question; nothing lost or re-run', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput(
        [
          {
            tool_calls: [
              call('call_q', 'ask_user_question', { question: 'Name of the log?' }),
              call('call_a', 'append_file', { path: 'mixed.txt', content: 'approved\n' }),
              call('call_l', 'list_files', {}),
            ],
          },
        ],
        { tools: TOOLS, policy: { enabled: true, allow: ['list_files'] } },
      ),
    );
    const approval = await waitForPending(h.client, runId);
    assert.equal(approval.payload.type, 'tool_approval');
    assert.ok(
      (
        await h.client.resolve(runId, {
          actionId: approval.actionId,
          approver: 'u1',
          decisions: [{ tool_call_id: 'call_a', decision: 'approve' }],
        })
      ).ok,
    );
    const question = await eventually(async () => {
      const p = await h.client.getPendingAction(runId);
      return p?.payload.type === 'ask_user_question' ? p : undefined;
    }, 'the question after the approval');
    assert.equal(
      await readSandboxFile(h.sandboxDir, 'mixed.txt'),
      'approved\n',
      'the approved call ran before the question',
    );
    assert.ok((await h.client.resolve(runId, { actionId: question.actionId, approver: 'u1', answer: 'app.log' })).ok);
    const result = await h.client.result(runId);
    assert.deepEqual(
      toolMessages(result.messages).map((t) => [t.tool_call_id, t.status]),
      [
        ['call_q', 'success'],
        ['call_a', 'success'],
        ['call_l', 'success'],
      ],
    );
    assert.deepEqual(JSON.parse(toolMessages(result.messages)[0]?.content ?? ''), { answer: 'app.log' });
    assert.equal(await readSandboxFile(h.sandboxDir, 'mixed.txt'), 'approved\n', 'ran exactly once');
    const history = await h.env.client.workflow.getHandle(runId).fetchHistory();
    const toolRuns = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeTool',
    );
    assert.equal(toolRuns.length, 2, 'list_files and append_file, once each; the question runs no activity');
    await maybeRecordHistory(h, runId, 'question-mixed-with-approval');
  });

  it('a policy can deny ask_user_question by naming it', async () => {
    const { runId } = await h.client.startRun(
      scriptedInput([{ tool_calls: [call('call_q', 'ask_user_question', { question: 'May I?' })] }], {
        tools: TOOLS,
        policy: { enabled: true, deny: ['ask_user_question'] },
      }),
    );
    const result = await h.client.result(runId);
    assert.match(toolMessages(result.messages)[0]?.content ?? '', /^Blocked: /);
  });
});
