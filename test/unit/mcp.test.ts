// The MCP pieces that need no server: names, agent tool entries, ${ENV} references, schema checks, results.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  callResultText,
  createDefaultToolRegistry,
  expandEnvReferences,
  invalidMcpArguments,
  keepBinaryBlocks,
  MissingEnvError,
} from '../../src/activities';
import { SqliteContentStore } from '../../src/content-store';
import { InvalidBinaryContent, readBinaryContent, storeBinaryContent } from '../../src/transcript';
import { AgentResolutionError, expandAgentTools, mcpServersOf, parseConfig } from '../../src/agent-config';
import { mcpToolName, parseMcpToolName, type ToolSpec } from '../../src/contracts';

const knownTools = new Set(
  createDefaultToolRegistry()
    .list()
    .map((tool) => tool.name),
);

function spec(name: string): ToolSpec {
  const ref = parseMcpToolName(name)!;
  return { name, description: name, inputSchema: { type: 'object' }, mcp: ref };
}

function config(tools: string[]) {
  return parseConfig(
    {
      mcpServers: { fs: { command: 'node' }, everything: { command: 'node' } },
      agents: [{ id: 'a', model: { provider: 'scripted', script: [] }, tools, users: ['*'] }],
    },
    { knownTools },
  );
}

describe('MCP tool names and agent tool entries', function () {
  it('<tool>_mcp_<server>, split at the last _mcp_', function () {
    assert.equal(mcpToolName('write_file', 'fs'), 'write_file_mcp_fs');
    assert.deepEqual(parseMcpToolName('write_file_mcp_fs'), { tool: 'write_file', server: 'fs' });
    assert.deepEqual(parseMcpToolName('get-sum_mcp_everything'), { tool: 'get-sum', server: 'everything' });
    assert.equal(parseMcpToolName('read_file'), undefined);
    assert.equal(parseMcpToolName('_mcp_fs'), undefined);
  });

  it('an agent may name MCP tools and globs of declared servers; others are refused at load', function () {
    const loaded = config(['read_file', 'write_file_mcp_fs', '*_mcp_everything']);
    assert.deepEqual(mcpServersOf(loaded.config.agents[0]!), ['fs', 'everything']);
    assert.throws(
      () => config(['*_mcp_github']),
      /agents\[0\]\.tools\[0\]: unknown tool "\*_mcp_github" \("github" is not a key of mcpServers/,
    );
  });

  it('globs expand to the listed tools they match; an exact name the server does not offer is refused', function () {
    const listed = ['read_text_file_mcp_fs', 'write_file_mcp_fs', 'echo_mcp_everything'].map(spec);
    const agent = config(['read_file', 'read_*_mcp_fs', 'echo_mcp_everything']).config.agents[0]!;
    assert.deepEqual(expandAgentTools(agent, listed), ['read_file', 'read_text_file_mcp_fs', 'echo_mcp_everything']);
    const missing = config(['delete_everything_mcp_fs']).config.agents[0]!;
    assert.throws(
      () => expandAgentTools(missing, listed),
      (error: unknown) => error instanceof AgentResolutionError && error.kind === 'UnknownTool',
    );
  });
});

describe('MCP server settings and results', function () {
  it('${ENV} references are read from the environment; a missing one names the variable', function () {
    assert.equal(expandEnvReferences('Bearer ${TOKEN}', { TOKEN: 't0k' }), 'Bearer t0k');
    assert.throws(
      () => expandEnvReferences('${NOPE}', {}),
      (error: unknown) => error instanceof MissingEnvError,
    );
  });

  it('arguments are checked against the JSON Schema (draft-07 and 2020-12)', function () {
    const schema = {
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: ['path', 'content'],
      additionalProperties: false,
    };
    assert.equal(invalidMcpArguments('w', schema, { path: 'a', content: 'b' }), undefined);
    assert.match(
      invalidMcpArguments('w', schema, { path: 1 }) ?? '',
      /^Invalid arguments for "w": .*'content'.*\/path must be string/,
    );
    const modern = { ...schema, $schema: 'https://json-schema.org/draft/2020-12/schema' };
    assert.match(invalidMcpArguments('w', modern, { path: 'a' }) ?? '', /content/);
    assert.match(invalidMcpArguments('w', schema, { __hitl_invalid_arguments: '{' }) ?? '', /not a JSON object/);
  });

  it('a call result becomes text: text blocks, resources, binary content by reference, structured content', function () {
    assert.equal(
      callResultText({
        content: [
          { type: 'text', text: 'one' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'inside' } },
          { type: 'resource_link', uri: 'file:///b.txt', name: 'b' },
        ],
      }),
      'one\n[image image/png, 3 bytes, not shown]\n[resource file:///a.txt]\ninside\n[resource link file:///b.txt "b"]',
    );
    assert.equal(callResultText({ content: [], structuredContent: { sum: 3 } }), '{"sum":3}');
  });

  it('binary blocks named by their content reference when kept, or why they were not', async function () {
    const ref = `sha256:${'a'.repeat(64)}`;
    const result = {
      content: [
        { type: 'text' as const, text: 'one' },
        { type: 'image' as const, data: 'AAAAAA==', mimeType: 'image/png' },
        { type: 'audio' as const, data: 'AAAA', mimeType: 'audio/wav' },
        { type: 'resource' as const, resource: { uri: 'file:///b.gz', mimeType: 'application/gzip', blob: 'AAA=' } },
      ],
    };
    assert.equal(
      callResultText(result, [undefined, { ref }, { notKept: 'too large' }, { ref }]),
      `one\n[image image/png, 4 bytes, content ref ${ref}]\n[audio audio/wav, 3 bytes, not kept: too large]\n` +
        `[resource file:///b.gz (application/gzip), 2 bytes, content ref ${ref}]`,
    );
    const kept = await keepBinaryBlocks(result, async (block) => {
      if (block.type === 'audio') throw new Error('the store is full');
      return `${block.type}:${block.mimeType}:${block.data}${block.uri !== undefined ? `:${block.uri}` : ''}`;
    });
    assert.deepEqual(kept, [
      undefined,
      { ref: 'image:image/png:AAAAAA==' },
      { notKept: 'the store is full' },
      { ref: 'resource:application/gzip:AAA=:file:///b.gz' },
    ]);
  });

  it('a binary block in the content store: kept under its own reference, read back only as a binary block', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'hitl-binary-'));
    const store = new SqliteContentStore({ path: join(dir, 'content.db') });
    try {
      const data = Buffer.from([0, 1, 2, 250, 255]).toString('base64');
      const ref = await storeBinaryContent(store, 'run/1', { type: 'image', mimeType: 'image/png', data });
      assert.equal(ref, await storeBinaryContent(store, 'run/1', { type: 'image', mimeType: 'image/png', data }));
      assert.deepEqual(await readBinaryContent(store, 'run/1', ref), {
        kind: 'binary',
        type: 'image',
        mimeType: 'image/png',
        data,
      });
      assert.equal(await readBinaryContent(store, 'run/2', ref), undefined, 'another run does not hold it');
      const message = await store.put('run/1', JSON.stringify({ role: 'user', content: 'hi' }));
      assert.equal(await readBinaryContent(store, 'run/1', message), undefined, 'a message is not a binary block');
      const odd = await storeBinaryContent(store, 'run/1', { type: 'resource', uri: 'x:y', mimeType: 'a\r\nb', data });
      assert.equal((await readBinaryContent(store, 'run/1', odd))?.mimeType, 'application/octet-stream');
      await assert.rejects(
        storeBinaryContent(store, 'run/1', { type: 'audio', mimeType: 'audio/wav', data: 'not base64!' }),
        InvalidBinaryContent,
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
