import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDefaultToolRegistry, toolSpecsOf } from '../../src/activities';
import {
  agentPolicy,
  AgentResolutionError,
  ConfigError,
  configVersion,
  FileConfigSource,
  findAgent,
  loadConfigFile,
  mayStartRuns,
  parseConfig,
  resolveAgentRunConfig,
  summarizeAgent,
  type LoadedConfig,
} from '../../src/agent-config';
import type { ToolSpec } from '../../src/contracts';
import { grantOffersOf } from '../../src/server/grant-offers';

const REPO_ROOT = path.join(__dirname, '..', '..');
const registry = createDefaultToolRegistry();
const knownTools = new Set(registry.list().map((tool) => tool.name));
const describeTools = (names: readonly string[]) => toolSpecsOf(registry, names);

/** A minimal valid file with one agent; `agent` and `top` patch it. */
function yamlWith(agent: string, top = ''): string {
  return `${top}
agents:
  - id: files
    model: { provider: scripted, script: [] }
    tools: [read_file, delete_file]
    users: ['*']
${agent}`;
}

async function writeTemp(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hitl-config-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function loadError(text: string, options: { libreChat?: string } = {}): Promise<string> {
  const file = await writeTemp('hitl.config.yaml', text);
  const libreChatFile =
    options.libreChat === undefined ? undefined : await writeTemp('librechat.yaml', options.libreChat);
  try {
    loadConfigFile(file, { knownTools, ...(libreChatFile ? { libreChatFile } : {}) });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    assert.ok(error.message.startsWith(`${file}: `), `names the file: ${error.message}`);
    return error.message.slice(file.length + 2);
  }
  assert.fail('the file loaded');
}

function loaded(value: unknown): LoadedConfig {
  return parseConfig(value, { knownTools });
}

describe('configuration file (hitl.config.yaml)', function () {
  it('the shipped file loads, with the agents of the README and the filesystem MCP server', function () {
    const config = loadConfigFile(path.join(REPO_ROOT, 'hitl.config.yaml'), { knownTools });
    assert.deepEqual(
      config.config.agents.map((a) => a.id),
      ['files-demo', 'files', 'mcp-files', 'reader'],
    );
    assert.deepEqual(Object.keys(config.config.mcpServers ?? {}), ['fs']);
    assert.equal(config.toolApproval.enabled, true);
  });

  describe('a bad file is one line naming the key path and the problem', function () {
    const cases: [string, string, RegExp][] = [
      [
        'a mode outside the enum',
        yamlWith('', '').replace(
          'agents:',
          'agents:\n  - { id: ok, model: { provider: scripted, script: [] }, users: [u1] }',
        ) + '    toolApproval: { mode: ask }\n',
        /^agents\[1\]\.toolApproval\.mode: expected default\|dontAsk\|bypass \(line \d+\)$/,
      ],
      ['YAML that does not parse', 'agents:\n  - id: [unclosed\n', /^line \d+, column \d+: /],
      ['an unknown top-level key', yamlWith('', 'agent:\n  - id: typo\n'), /^agent: unknown key \(line 1\)$/],
      [
        'a key written in the file',
        yamlWith('', 'providers:\n  openai: { baseURL: "https://api.openai.com/v1", apiKey: sk-123 }\n'),
        /^providers\.openai\.apiKey: write it as an environment reference such as \$\{OPENAI_API_KEY\}, never the value itself/,
      ],
      [
        'a provider that is not declared',
        yamlWith('').replace('provider: scripted, script: []', 'provider: openia'),
        /^agents\[0\]\.model\.provider: unknown provider "openia" \(scripted, or a key of providers; no providers are declared\)/,
      ],
      [
        'a tool the worker does not have',
        yamlWith('').replace('[read_file, delete_file]', '[read_file, rm_rf]'),
        /^agents\[0\]\.tools\[1\]: unknown tool "rm_rf" \(known tools: .*delete_file.*\)/,
      ],
      [
        'two agents with one id',
        yamlWith('  - { id: files, model: { provider: scripted, script: [] }, users: [u1] }\n'),
        /^agents\[1\]\.id: duplicate agent id "files" \(also agents\[0\]\)/,
      ],
      [
        'an agent without users',
        yamlWith('').replace("    users: ['*']\n", ''),
        /^agents\[0\]\.users: expected array, got undefined/,
      ],
      [
        'toolOptions for a tool the agent does not offer',
        yamlWith('    toolOptions: { write_file: { approvalMode: allow } }\n'),
        /^agents\[0\]\.toolOptions\.write_file: not one of this agent's tools/,
      ],
      [
        'a TTL that is not a duration',
        yamlWith('    approvalTtl: tomorrow\n'),
        /^agents\[0\]\.approvalTtl: expected a duration such as 30m, 24h or 7d \(or milliseconds\)/,
      ],
      [
        'a scripted model without a script',
        yamlWith('').replace('{ provider: scripted, script: [] }', '{ provider: scripted }'),
        /^agents\[0\]\.model\.script: required by provider scripted/,
      ],
      [
        'a stdio MCP server without a command',
        yamlWith('', 'mcpServers:\n  fs: { type: stdio, args: [x] }\n'),
        /^mcpServers\.fs\.command: required for a stdio server/,
      ],
      [
        '"*" as an approver',
        yamlWith("    approvers: ['*']\n"),
        /^agents\[0\]\.approvers\[0\]: "\*" is not allowed here/,
      ],
      [
        'a list that is a string',
        yamlWith('', 'toolApproval: { allow: read_file }\n'),
        /^toolApproval\.allow: expected array, got string \(line 1\)$/,
      ],
      [
        'an mcpAnnotations value other than follow or ignore',
        yamlWith('    mcpAnnotations: always\n'),
        /^agents\[0\]\.mcpAnnotations: expected follow\|ignore \(line \d+\)$/,
      ],
      [
        'mcpAnnotations: follow on an agent without MCP tools',
        yamlWith('    mcpAnnotations: follow\n'),
        /^agents\[0\]\.mcpAnnotations: follow has no effect: the agent names no MCP tools \(<tool>_mcp_<server> in tools\) \(line \d+\)$/,
      ],
      [
        'an approval mode that LibreChat does not have',
        yamlWith('    toolOptions: { read_file: { approvalMode: always } }\n'),
        /^agents\[0\]\.toolOptions\.read_file\.approvalMode: expected ask\|allow\|deny/,
      ],
    ];
    for (const [what, text, expected] of cases) {
      it(what, async function () {
        assert.match(await loadError(text), expected);
      });
    }

    it('counts further problems without listing them', async function () {
      const message = await loadError('agents:\n  - { id: "", users: 3 }\n');
      assert.match(message, /\(and \d+ more problems\)$/);
    });

    it('a file that is missing is named', async function () {
      const missing = path.join(tmpdir(), 'no-such-dir', 'hitl.config.yaml');
      assert.throws(() => loadConfigFile(missing, { knownTools }), /cannot read the file \(ENOENT\)/);
    });
  });

  describe('LibreChat (HITL_LIBRECHAT_CONFIG)', function () {
    const libreChat = `
version: 1.2.8
endpoints:
  agents:
    disableBuilder: false
    toolApproval:
      enabled: true
      mode: dontAsk
      allow: ['read_*']
      ask: ['*_mcp_github']
      reason: 'LibreChat says {tool} is guarded'
`;

    it("endpoints.agents.toolApproval becomes every agent's defaults, unchanged in meaning", async function () {
      const file = await writeTemp('hitl.config.yaml', yamlWith(''));
      const libreChatFile = await writeTemp('librechat.yaml', libreChat);
      const config = loadConfigFile(file, { knownTools, libreChatFile });
      const policy = agentPolicy(config, findAgent(config, 'files')!);
      assert.deepEqual(policy, {
        enabled: true,
        mode: 'dontAsk',
        allow: ['read_*'],
        deny: [],
        ask: ['*_mcp_github'],
        reason: 'LibreChat says {tool} is guarded',
      });
      assert.match(config.toolApprovalSource ?? '', /librechat\.yaml endpoints\.agents\.toolApproval$/);
    });

    it('a toolApproval in both files is refused', async function () {
      const message = await loadError(yamlWith('', 'toolApproval: { enabled: true }\n'), { libreChat });
      assert.match(message, /^toolApproval: also given by .*librechat\.yaml \(HITL_LIBRECHAT_CONFIG\); keep one$/);
    });

    it('a librechat.yaml without the block, or with a bad one, is one line too', async function () {
      const file = await writeTemp('hitl.config.yaml', yamlWith(''));
      for (const [text, expected] of [
        [
          'endpoints:\n  agents: {}\n',
          /librechat\.yaml: endpoints\.agents\.toolApproval: expected object, got undefined/,
        ],
        [
          'endpoints:\n  agents:\n    toolApproval: { mode: yolo }\n',
          /librechat\.yaml: endpoints\.agents\.toolApproval\.mode: expected default\|dontAsk\|bypass \(line 3\)$/,
        ],
      ] as const) {
        const libreChatFile = await writeTemp('librechat.yaml', text);
        assert.throws(
          () => loadConfigFile(file, { knownTools, libreChatFile }),
          (error: Error) => {
            assert.ok(error instanceof ConfigError);
            assert.match(error.message, expected);
            return true;
          },
        );
      }
    });
  });

  describe('an agent as a run sees it', function () {
    const base = {
      toolApproval: {
        enabled: true,
        mode: 'default',
        allow: ['list_files'],
        deny: ['*_mcp_prod'],
        reason: 'base {tool}',
      },
      defaults: { approvalTtl: '2h', onExpiry: 'reject' },
      agents: [
        {
          id: 'files',
          model: { provider: 'scripted', script: [] },
          tools: ['list_files', 'read_file', 'write_file', 'delete_file'],
          toolApproval: { mode: 'dontAsk', allow: ['read_file'], ask: ['delete_*'] },
          toolOptions: { write_file: { approvalMode: 'ask' }, list_files: { approvalMode: 'deny' } },
          approvers: ['owner', 'boss', { role: 'approver' }],
          users: ['u1', { groups: ['staff'] }],
          approvalTtl: '1h',
        },
        { id: 'plain', model: { provider: 'scripted', script: [] }, tools: ['read_file'], users: ['*'] },
      ],
    };

    it("merges the agent's toolApproval over the defaults: values replace, lists add; toolOptions join the lists", function () {
      const config = loaded(base);
      assert.deepEqual(agentPolicy(config, findAgent(config, 'files')!), {
        enabled: true,
        mode: 'dontAsk',
        allow: ['list_files', 'read_file'],
        deny: ['*_mcp_prod', 'list_files'],
        ask: ['delete_*', 'write_file'],
        reason: 'base {tool}',
      });
    });

    it('resolves owner, named and claim approvers, the TTL, and only tightens', function () {
      const config = loaded(base);
      const run = resolveAgentRunConfig(config, {
        agentId: 'files',
        userId: 'u1',
        tighten: { deny: ['read_file'], ask: ['list_*'], approvalTtlMs: 10 * 60_000, onExpiry: 'abort' },
        describeTools,
        scriptedEnabled: true,
      });
      assert.deepEqual(run.approvers, { users: ['u1', 'boss'], claims: [{ role: 'approver' }] });
      assert.equal(run.approvalTtlMs, 10 * 60_000);
      assert.equal(run.onExpiry, 'abort');
      assert.deepEqual(run.tighten, { deny: ['read_file'], ask: ['list_*'] });
      assert.deepEqual(
        run.toolSpecs?.map((t) => t.name),
        ['list_files', 'read_file', 'write_file', 'delete_file'],
      );
      assert.equal(run.toolSpecs?.[1]?.description, registry.get('read_file')?.description);
      assert.deepEqual(run.toolSpecs?.[1]?.inputSchema.required, ['path']);

      const longer = resolveAgentRunConfig(config, {
        agentId: 'files',
        userId: 'u2',
        tighten: { approvalTtlMs: 48 * 3_600_000 },
        describeTools,
        scriptedEnabled: true,
      });
      assert.equal(longer.approvalTtlMs, 3_600_000, 'a longer TTL never lengthens the agent’s');
      assert.equal(longer.onExpiry, 'reject', "the defaults' onExpiry");
      assert.deepEqual(longer.approvers.users, ['u2', 'boss'], '`owner` is the user who starts the run');
      const plain = resolveAgentRunConfig(config, {
        agentId: 'plain',
        userId: 'u3',
        describeTools,
        scriptedEnabled: true,
      });
      assert.deepEqual(plain.approvers, { users: ['u3'], claims: [] }, 'default approvers: the owner');
      assert.equal(plain.approvalTtlMs, 2 * 3_600_000, "the defaults' TTL");
    });

    it('refuses an unknown agent, and a scripted agent on a worker that does not accept it', function () {
      const config = loaded(base);
      assert.throws(
        () => resolveAgentRunConfig(config, { agentId: 'nope', userId: 'u1', describeTools, scriptedEnabled: true }),
        (error: Error) =>
          error instanceof AgentResolutionError && error.kind === 'UnknownAgent' && /"nope"/.test(error.message),
      );
      assert.throws(
        () => resolveAgentRunConfig(config, { agentId: 'files', userId: 'u1', describeTools, scriptedEnabled: false }),
        (error: Error) =>
          error instanceof AgentResolutionError &&
          error.kind === 'ProviderDisabled' &&
          /HITL_ENABLE_SCRIPTED=1/.test(error.message),
      );
    });

    it('the config version is a hash of the agent alone: stable, and changed by an edit of that agent only', function () {
      const version = (value: typeof base, id: string) => {
        const config = loaded(value);
        return configVersion(config, findAgent(config, id)!, describeTools(findAgent(config, id)!.tools));
      };
      const files = version(base, 'files');
      assert.match(files, /^[0-9a-f]{12}$/);
      assert.equal(version(structuredClone(base), 'files'), files);
      const edited = structuredClone(base);
      edited.agents[0]!.toolApproval!.ask = ['delete_*', 'read_file'];
      assert.notEqual(version(edited, 'files'), files);
      assert.equal(version(edited, 'plain'), version(base, 'plain'), 'another agent keeps its version');
      const defaults = structuredClone(base);
      defaults.toolApproval.deny = [];
      assert.notEqual(version(defaults, 'plain'), version(base, 'plain'), 'the defaults are part of every agent');
    });

    it('users: "*", ids and claim rules decide who may start runs', function () {
      const config = loaded(base);
      const files = findAgent(config, 'files')!;
      assert.equal(mayStartRuns(files, { sub: 'u1', claims: {} }), true);
      assert.equal(mayStartRuns(files, { sub: 'u2', claims: {} }), false);
      assert.equal(mayStartRuns(files, { sub: 'u2', claims: { groups: ['guests', 'staff'] } }), true);
      assert.equal(mayStartRuns(files, { sub: 'u2', claims: { groups: 'staff' } }), true);
      assert.equal(mayStartRuns(files, { sub: 'u2', claims: { groups: ['Staff'] } }), false, 'case-sensitive');
      assert.equal(mayStartRuns(findAgent(config, 'plain')!, { sub: 'anyone', claims: {} }), true);
    });
  });

  describe('an agent with MCP tools', function () {
    /** An MCP tool as `resolveAgentConfig` lists it (`listMcpToolSpecs`). */
    const listed = (server: string, tool: string, annotations?: ToolSpec['annotations']): ToolSpec => ({
      name: `${tool}_mcp_${server}`,
      description: `${tool} of ${server}`,
      inputSchema: { type: 'object' },
      ...(annotations !== undefined ? { annotations } : {}),
      mcp: { server, tool },
    });
    const listing = [
      listed('fs', 'read_text_file', { readOnlyHint: true }),
      listed('fs', 'write_file', { readOnlyHint: false, destructiveHint: true }),
      listed('fs', 'list_directory', { readOnlyHint: true }),
      listed('fs', 'create_directory', { readOnlyHint: false, destructiveHint: false }),
      listed('everything', 'echo', { readOnlyHint: true, destructiveHint: false }),
      listed('everything', 'get-sum', { readOnlyHint: true }),
      listed('everything', 'mystery'),
    ];
    const mcpBase = {
      toolApproval: { enabled: true, mode: 'default', deny: ['list_*_mcp_fs'] },
      mcpServers: {
        fs: { command: 'node', args: ['fs-server.js', '/srv'] },
        everything: { command: 'node', args: ['everything.js'] },
      },
      agents: [
        {
          id: 'follows',
          model: { provider: 'scripted', script: [] },
          tools: ['read_file', '*_mcp_fs', '*_mcp_everything'],
          mcpAnnotations: 'follow',
          toolApproval: { ask: ['get-sum_mcp_everything'] },
          toolOptions: { echo_mcp_everything: { approvalMode: 'deny' } },
          users: ['*'],
        },
        {
          id: 'bypass',
          model: { provider: 'scripted', script: [] },
          tools: ['read_file', '*_mcp_fs', '*_mcp_everything'],
          mcpAnnotations: 'follow',
          toolApproval: { mode: 'bypass' },
          users: ['*'],
        },
        {
          id: 'ignores',
          model: { provider: 'scripted', script: [] },
          tools: ['*_mcp_fs'],
          users: ['*'],
        },
        { id: 'builtin', model: { provider: 'scripted', script: [] }, tools: ['read_file'], users: ['*'] },
      ],
    };
    const resolve = (config: LoadedConfig, agentId: string, mcpTools: readonly ToolSpec[] = listing) =>
      resolveAgentRunConfig(config, { agentId, userId: 'u1', describeTools, scriptedEnabled: true, mcpTools });

    it('mcpAnnotations: follow pins the entries in the policy and records them; explicit entries and the mode win where they should', function () {
      const config = loaded(mcpBase);
      const run = resolve(config, 'follows');
      // read_text_file: read-only → allow; list_directory: denied by the defaults' glob; write_file and
      // mystery (no annotations: destructive by the spec's defaults) ask through mode default;
      // get-sum: an explicit ask; echo: an explicit deny (toolOptions).
      assert.deepEqual(run.policyFromAnnotations, { allow: ['read_text_file_mcp_fs'], ask: [] });
      assert.deepEqual(run.policy, {
        enabled: true,
        mode: 'default',
        allow: ['read_text_file_mcp_fs'],
        deny: ['list_*_mcp_fs', 'echo_mcp_everything'],
        ask: ['get-sum_mcp_everything'],
      });

      const bypass = resolve(config, 'bypass');
      assert.deepEqual(bypass.policyFromAnnotations, {
        allow: [],
        ask: ['write_file_mcp_fs', 'mystery_mcp_everything'],
      });
      assert.deepEqual(bypass.policy.ask, ['write_file_mcp_fs', 'mystery_mcp_everything'], 'read_file is built in');
      assert.deepEqual(bypass.policy.deny, ['list_*_mcp_fs']);

      // A remembered approval: under mode default it still works for write_file (the mode asks); under
      // bypass the annotation's ask entry asks every time, and the offer says why.
      assert.deepEqual(grantOffersOf(run)['write_file_mcp_fs'], { scopes: ['session', 'always'] });
      assert.deepEqual(grantOffersOf(bypass)['write_file_mcp_fs'], {
        scopes: [],
        why: "the agent's policy asks for write_file_mcp_fs every time: its MCP annotations make it destructive (as they do when the server gives none) and the agent follows them (mcpAnnotations: follow); a remembered approval never overrides it",
      });

      const ignores = resolve(config, 'ignores');
      assert.equal(ignores.policyFromAnnotations, undefined);
      assert.deepEqual(ignores.policy, agentPolicy(config, findAgent(config, 'ignores')!));
    });

    it("configVersion: what GET /agents shows is what a run records; the listed MCP tools are the run's toolsVersion", function () {
      const config = loaded(mcpBase);
      const shown = (value: unknown, id: string) => {
        const c = loaded(value);
        return summarizeAgent(c, findAgent(c, id)!, describeTools).configVersion;
      };
      for (const id of ['follows', 'bypass', 'ignores', 'builtin']) {
        assert.equal(resolve(config, id).configVersion, shown(mcpBase, id), id);
      }
      const run = resolve(config, 'follows');
      assert.match(run.toolsVersion ?? '', /^[0-9a-f]{12}$/);
      assert.equal(resolve(config, 'builtin').toolsVersion, undefined, 'no MCP servers: no toolsVersion');

      // The servers change their tools: same configVersion, another toolsVersion.
      const changed = listing.map((spec) =>
        spec.name === 'write_file_mcp_fs' ? { ...spec, annotations: { readOnlyHint: true } } : spec,
      );
      const relisted = resolve(config, 'follows', changed);
      assert.equal(relisted.configVersion, run.configVersion);
      assert.notEqual(relisted.toolsVersion, run.toolsVersion);
      assert.equal(resolve(config, 'follows', [...listing]).toolsVersion, run.toolsVersion, 'stable');

      // The file changes: mcpAnnotations, a server the agent names, or its policy.
      const ignoring = structuredClone(mcpBase);
      delete (ignoring.agents[0] as { mcpAnnotations?: string }).mcpAnnotations;
      assert.notEqual(shown(ignoring, 'follows'), shown(mcpBase, 'follows'), 'mcpAnnotations');
      const moved = structuredClone(mcpBase);
      moved.mcpServers.fs.args = ['fs-server.js', '/elsewhere'];
      assert.notEqual(shown(moved, 'ignores'), shown(mcpBase, 'ignores'), 'the server definition');
      assert.equal(shown(moved, 'builtin'), shown(mcpBase, 'builtin'), 'an agent that does not name it');
    });
  });

  describe('reloading', function () {
    it('re-reads the file when it changes; a bad edit keeps the last good configuration and is reported once', async function () {
      const file = await writeTemp('hitl.config.yaml', yamlWith(''));
      const errors: string[] = [];
      const source = new FileConfigSource(file, { knownTools, onError: (error) => errors.push(error.message) });
      assert.deepEqual(findAgent(source.current(), 'files')?.tools, ['read_file', 'delete_file']);

      await writeFile(file, yamlWith('').replace('[read_file, delete_file]', '[read_file]'));
      assert.deepEqual(findAgent(source.current(), 'files')?.tools, ['read_file']);

      await writeFile(file, yamlWith('').replace('[read_file, delete_file]', '[read_file, nope, x]'));
      assert.deepEqual(findAgent(source.current(), 'files')?.tools, ['read_file'], 'the last good one');
      assert.deepEqual(findAgent(source.current(), 'files')?.tools, ['read_file']);
      assert.equal(errors.length, 1, 'reported once');
      assert.match(errors[0]!, /agents\[0\]\.tools\[1\]: unknown tool "nope"/);
    });
  });

  describe('processes stop on a bad file with its one line', function () {
    this.timeout(60_000);
    for (const [what, args] of [
      ['the worker', ['src/worker.ts']],
      ['the HTTP API', ['src/server/main.ts']],
      ['the hitl command', ['src/cli/hitl.ts', 'agents']],
    ] as const) {
      it(what, async function () {
        const file = await writeTemp('hitl.config.yaml', yamlWith('    toolApproval: { mode: ask }\n'));
        const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', ...args], {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            HITL_CONFIG: file,
            HITL_DEV: '1',
            // Nothing may be reached: the file is checked before any connection.
            TEMPORAL_ADDRESS: '127.0.0.1:1',
          },
          encoding: 'utf8',
          timeout: 50_000,
        });
        assert.equal(result.status, 1, result.stderr);
        assert.equal(result.stdout, '');
        const lines = result.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(
          lines[0]!,
          /hitl\.config\.yaml: agents\[0\]\.toolApproval\.mode: expected default\|dontAsk\|bypass \(line \d+\)$/,
        );
      });
    }
  });
});
