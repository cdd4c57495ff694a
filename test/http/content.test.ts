// GET /runs/:runId/content/:ref: a binary block of an MCP tool result (server-everything's tiny image, a gzip
// resource) read back over real HTTP from a run started through the API, with the run's access rules.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { McpManager } from '../../src/activities';
import type { MessagesPage, ToolMessage } from '../../src/contracts';
import { buildApi, issueDevToken, type ErrorBody } from '../../src/server';
import { EVERYTHING_SERVER, withDirectClient } from '../support/mcp';
import { startHarness, type Harness } from '../workflow/harness';
import { agentsFromConfig, request, type ApiResponse } from './client';

const SECRET = randomBytes(32).toString('base64url');
const GZIP_TEXT = 'hello over http';

const AGENTS = {
  toolApproval: { enabled: true, mode: 'default' },
  mcpServers: {
    everything: { command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'], initTimeout: 60_000 },
  },
  agents: [
    {
      id: 'binary',
      model: {
        provider: 'scripted',
        script: [
          {
            tool_calls: [
              { id: 'img', name: 'get-tiny-image_mcp_everything', arguments: {} },
              {
                id: 'gz',
                name: 'gzip-file-as-resource_mcp_everything',
                arguments: {
                  name: 'hello.txt.gz',
                  data: `data:text/plain;base64,${Buffer.from(GZIP_TEXT).toString('base64')}`,
                  outputType: 'resource',
                },
              },
            ],
          },
          { content: 'done' },
        ],
      },
      tools: ['get-tiny-image_mcp_everything', 'gzip-file-as-resource_mcp_everything'],
      toolApproval: { allow: ['*_mcp_everything'] },
      users: ['*'],
    },
  ],
};

describe('HTTP API: binary content of tool results (real server, real dev server, server-everything)', function () {
  this.timeout(120_000);
  let h: Harness;
  let mcp: McpManager;
  let app: FastifyInstance;
  let base: string;
  const tokens: Record<string, string> = {};

  before(async () => {
    const agents = agentsFromConfig(AGENTS);
    mcp = new McpManager(() => agents.current().config.mcpServers ?? {});
    h = await startHarness({ agents, mcp });
    app = buildApi({ client: h.client, auth: { kind: 'secret', secret: SECRET }, agents });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const sub of ['u1', 'mallory']) tokens[sub] = await issueDevToken(SECRET, sub, 600);
  });
  after(async () => {
    await app?.close();
    await h?.stop();
    await mcp?.close();
  });

  const get = <T>(sub: string, path: string): Promise<ApiResponse<T>> =>
    request<T>(base, 'GET', path, { token: tokens[sub]! });

  /** The raw answer (bytes and headers), not JSON. */
  async function getBytes(sub: string, path: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${tokens[sub]!}` } });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  it('the owner reads each binary block by the reference its tool message names, with its MIME type; strangers get 404', async () => {
    const started = await request<{ runId: string }>(base, 'POST', '/runs', {
      token: tokens.u1!,
      body: { agentId: 'binary', conversationId: `c-${randomUUID()}`, messages: [{ role: 'user', content: 'go' }] },
    });
    assert.equal(started.status, 201);
    const { runId } = started.body;
    assert.equal((await h.client.result(runId)).status, 'completed');
    const page = await get<MessagesPage>('u1', `/runs/${runId}/messages`);
    const byId = new Map(
      page.body.messages.filter((m): m is ToolMessage => m.role === 'tool').map((m) => [m.tool_call_id, m.content]),
    );
    const refOf = (id: string) => /content ref (sha256:[0-9a-f]{64})/.exec(byId.get(id) ?? '')?.[1];
    const imageRef = refOf('img');
    const gzRef = refOf('gz');
    assert.ok(imageRef && gzRef, `references in the tool messages: ${JSON.stringify([...byId])}`);

    const image = await withDirectClient({ stdio: 'everything' }, async (client) => {
      const result = await client.callTool({ name: 'get-tiny-image', arguments: {} });
      const block = (result.content as { type: string; data?: string }[]).find((b) => b.type === 'image');
      return Buffer.from(block?.data ?? '', 'base64');
    });
    const png = await getBytes('u1', `/runs/${runId}/content/${imageRef}`);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal(png.headers.get('content-disposition'), 'inline');
    assert.equal(png.headers.get('x-content-type-options'), 'nosniff');
    assert.match(png.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.ok(png.bytes.equals(image), 'the bytes are the server’s image');

    const gz = await getBytes('u1', `/runs/${runId}/content/${gzRef}`);
    assert.equal(gz.status, 200);
    assert.equal(gz.headers.get('content-type'), 'application/gzip');
    assert.equal(gz.headers.get('content-disposition'), 'attachment', 'not an image or audio: a download');
    assert.equal(gunzipSync(gz.bytes).toString('utf8'), GZIP_TEXT);

    // Same access as the run's messages: a stranger cannot tell the run exists.
    const stranger = await get<ErrorBody>('mallory', `/runs/${runId}/content/${imageRef}`);
    assert.deepEqual([stranger.status, stranger.body.type], [404, 'RunNotFound']);
    const unknownRun = await get<ErrorBody>('u1', `/runs/no-such-run-${randomUUID()}/content/${imageRef}`);
    assert.deepEqual([unknownRun.status, unknownRun.body.type], [404, 'RunNotFound']);
    const unknownRef = await get<ErrorBody>('u1', `/runs/${runId}/content/sha256:${'0'.repeat(64)}`);
    assert.deepEqual([unknownRef.status, unknownRef.body.type], [404, 'ContentNotFound']);
    const badRef = await get<ErrorBody>('u1', `/runs/${runId}/content/not-a-ref`);
    assert.deepEqual([badRef.status, badRef.body.type], [400, 'InvalidRequest']);
    const anonymous = await request<ErrorBody>(base, 'GET', `/runs/${runId}/content/${imageRef}`);
    assert.equal(anonymous.status, 401);
  });
});
