// The MCP pieces that need no server: names, agent tool entries, ${ENV} references, schema checks, results.
import assert from 'node:assert/strict';
import {
  callResultText,
  createDefaultToolRegistry,
  expandEnvReferences,
  invalidMcpArguments,
  MissingEnvError,
} from '../../src/activities';
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
});
