import assert from 'node:assert/strict';
import type { ToolPolicy, ToolSpec } from '../../src/contracts';
import {
  annotationClass,
  annotationPolicyEntries,
  approverClaimsFor,
  ASK_USER_QUESTION_TOOL,
  claimRuleMatches,
  evaluateRunPolicy,
  evaluateToolPolicy,
  isApprover,
  matchesToolPattern,
  withAnnotationEntries,
} from '../../src/policy';
import type { PolicyVerdict } from '../../src/policy';

/** An enabled policy with empty lists, mode `default`, overridden by `overrides`. */
function policy(overrides: Partial<ToolPolicy> = {}): ToolPolicy {
  return { enabled: true, mode: 'default', allow: [], deny: [], ask: [], ...overrides };
}

function verdict(toolName: string, p: ToolPolicy, grants?: ReadonlySet<string>): PolicyVerdict {
  return evaluateToolPolicy(toolName, p, grants);
}

describe('policy', () => {
  describe('matchesToolPattern', () => {
    const cases: Array<[pattern: string, name: string, expected: boolean]> = [
      // exact names, anchoring
      ['read_file', 'read_file', true],
      ['read_file', 'read_file_lines', false],
      ['read_file', 'my_read_file', false],
      ['read_file_lines', 'read_file', false],
      ['', '', true],
      ['', 'x', false],
      // literal dot
      ['tool.with.dots', 'tool.with.dots', true],
      ['tool.with.dots', 'tool_with_dots', false],
      ['a.c', 'abc', false],
      // leading / trailing / surrounding star
      ['*search*', 'web_search', true],
      ['*search*', 'searcher', true],
      ['*search*', 'search', true],
      ['*search*', 'web_seaRch', false],
      ['*search*', 'sear_ch', false],
      ['web_*', 'web_search', true],
      ['web_*', 'web_', true],
      ['web_*', 'web', false],
      ['web_*', 'my_web_search', false],
      ['*_search', 'web_search', true],
      ['*_search', 'web_search_v2', false],
      // MCP server naming `<tool>_mcp_<server>`
      ['*_mcp_github', 'create_issue_mcp_github', true],
      ['*_mcp_github', 'list_prs_mcp_github', true],
      ['*_mcp_github', 'x_mcp_gitlab', false],
      ['*_mcp_github', 'create_issue_mcp_github_enterprise', false],
      ['*_mcp_github', '_mcp_github', true],
      ['*_mcp_github', 'mcp_github', false],
      // star matches anything, including `_`, `:`, `/`, `.` and the empty string
      ['*', 'anything', true],
      ['*', '', true],
      ['*', 'a:b/c.d_e', true],
      ['**', '', true],
      ['**', 'xyz', true],
      ['a*', 'a', true],
      ['*a', 'a', true],
      ['a*a', 'a', false],
      ['a*a', 'aa', true],
      ['a*a', 'aba', true],
      ['ns:*', 'ns:tool/sub.x', true],
      ['ns/*/run', 'ns/a/b/run', true],
      // multiple stars (a*b*c)
      ['a*b*c', 'abc', true],
      ['a*b*c', 'aXbYc', true],
      ['a*b*c', 'aXXbYYbZZc', true],
      ['a*b*c', 'acb', false],
      ['a*b*c', 'abcd', false],
      ['a*b*c', 'xabc', false],
      ['a*b*c', 'ab', false],
      ['a*b*c', 'abcbc', true],
      ['a*bc*bc', 'abcbc', true],
      ['a*bc*bc', 'abc', false],
      ['*a*b*', 'ba', false],
      ['*a*b*', 'bab', true],
      // every other character is literal
      ['read?', 'read?', true],
      ['read?', 'reads', false],
      ['read?', 'read', false],
      ['[abc]', '[abc]', true],
      ['[abc]', 'a', false],
      ['tool[0-9]', 'tool5', false],
      ['{a,b}', '{a,b}', true],
      ['{a,b}', 'a', false],
      ['a+', 'a+', true],
      ['a+', 'aa', false],
      ['(x)', '(x)', true],
      ['(x)', 'x', false],
      ['a\\*', 'a\\b', true],
      ['a\\*', 'ab', false],
      ['a\\b', 'a\\b', true],
      ['a\\b', 'ab', false],
      ['^a$', '^a$', true],
      ['^a$', 'a', false],
      ['a|b', 'a', false],
      ['.*', 'anything', false],
      ['.*', '.anything', true],
      ['$&*', '$&x', true],
      // case-sensitive
      ['Read_File', 'read_file', false],
      ['read_file', 'READ_FILE', false],
      ['*SEARCH*', 'web_search', false],
    ];
    for (const [pattern, name, expected] of cases) {
      it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => {
        assert.equal(matchesToolPattern(pattern, name), expected);
      });
    }

    it('stays fast on patterns that make naive backtracking matchers explode', () => {
      const name = 'a'.repeat(256);
      const pattern = '*a'.repeat(60) + '*b';
      const started = Date.now();
      assert.equal(matchesToolPattern(pattern, name), false);
      assert.equal(matchesToolPattern('*a'.repeat(60) + '*', name), true);
      assert.ok(Date.now() - started < 100, 'matching took too long');
    });

    it('agrees with a reference RegExp implementation on random patterns and names', () => {
      // Reference: escape every RegExp metacharacter, then turn `*` into `[\s\S]*`, anchored.
      const reference = (pattern: string, name: string): boolean =>
        new RegExp(
          '^' +
            pattern
              .split('*')
              .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
              .join('[\\s\\S]*') +
            '$',
        ).test(name);

      // Deterministic PRNG (mulberry32) so a failure is reproducible.
      let seed = 0x5eed;
      const random = (): number => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = seed;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const pick = (alphabet: string, maxLength: number): string => {
        const length = Math.floor(random() * (maxLength + 1));
        let out = '';
        for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
        return out;
      };

      let matches = 0;
      const total = 600;
      for (let i = 0; i < total; i++) {
        const pattern = pick('ab*_.?', 6);
        // Half the names are derived from the pattern so that a good share of pairs actually match.
        const name = random() < 0.5 ? pattern.split('*').join(pick('ab_.?', 2)) : pick('ab_.?*', 7);
        const expected = reference(pattern, name);
        if (expected) matches++;
        assert.equal(
          matchesToolPattern(pattern, name),
          expected,
          `pattern ${JSON.stringify(pattern)} name ${JSON.stringify(name)}`,
        );
      }
      // The sample must exercise both outcomes, or the comparison proves little.
      assert.ok(matches > total / 10 && matches < total - total / 10, `unbalanced sample: ${matches}/${total}`);
    });
  });

  describe('evaluateToolPolicy', () => {
    describe('modes (nothing listed)', () => {
      it('default asks', () => {
        assert.deepEqual(verdict('web_search', policy()), { decision: 'ask', rule: 'default' });
      });
      it('dontAsk denies', () => {
        assert.deepEqual(verdict('web_search', policy({ mode: 'dontAsk' })), { decision: 'deny', rule: 'dontAsk' });
      });
      it('bypass allows', () => {
        assert.deepEqual(verdict('web_search', policy({ mode: 'bypass' })), { decision: 'allow', rule: 'bypass' });
      });
    });

    describe('single lists', () => {
      it('deny denies', () => {
        assert.deepEqual(verdict('rm', policy({ deny: ['rm'] })), { decision: 'deny', rule: 'deny' });
      });
      it('ask asks (even in bypass mode)', () => {
        assert.deepEqual(verdict('rm', policy({ ask: ['rm'], mode: 'bypass' })), { decision: 'ask', rule: 'ask' });
      });
      it('allow allows', () => {
        assert.deepEqual(verdict('ls', policy({ allow: ['ls'] })), { decision: 'allow', rule: 'allow' });
      });
      it('a grant allows', () => {
        assert.deepEqual(verdict('ls', policy(), new Set(['ls'])), { decision: 'allow', rule: 'grant' });
      });
      it('lists match by glob', () => {
        assert.deepEqual(verdict('create_issue_mcp_github', policy({ deny: ['*_mcp_github'] })), {
          decision: 'deny',
          rule: 'deny',
        });
        assert.deepEqual(verdict('x_mcp_gitlab', policy({ deny: ['*_mcp_github'] })), {
          decision: 'ask',
          rule: 'default',
        });
      });
      it('a non-matching entry among several does not prevent a later one matching', () => {
        assert.deepEqual(verdict('web_search', policy({ allow: ['read_file', '*search*'] })), {
          decision: 'allow',
          rule: 'allow',
        });
      });
    });

    describe('precedence', () => {
      it('deny beats ask', () => {
        assert.equal(verdict('t', policy({ deny: ['t'], ask: ['t'] })).rule, 'deny');
      });
      it('deny beats allow', () => {
        assert.equal(verdict('t', policy({ deny: ['*'], allow: ['t'] })).rule, 'deny');
      });
      it('deny beats a grant', () => {
        assert.deepEqual(verdict('t', policy({ deny: ['t'] }), new Set(['t'])), { decision: 'deny', rule: 'deny' });
      });
      it('deny beats bypass', () => {
        assert.deepEqual(verdict('t', policy({ deny: ['t'], mode: 'bypass' })), { decision: 'deny', rule: 'deny' });
      });
      it('ask beats allow', () => {
        assert.deepEqual(verdict('t', policy({ ask: ['t'], allow: ['*'] })), { decision: 'ask', rule: 'ask' });
      });
      it('ask beats a grant', () => {
        assert.deepEqual(verdict('t', policy({ ask: ['t'] }), new Set(['t'])), { decision: 'ask', rule: 'ask' });
      });
      it('ask beats bypass', () => {
        assert.deepEqual(verdict('t', policy({ ask: ['*'], mode: 'bypass' })), { decision: 'ask', rule: 'ask' });
      });
      it('allow beats dontAsk', () => {
        assert.deepEqual(verdict('t', policy({ allow: ['t'], mode: 'dontAsk' })), { decision: 'allow', rule: 'allow' });
      });
      it('a grant beats dontAsk', () => {
        assert.deepEqual(verdict('t', policy({ mode: 'dontAsk' }), new Set(['t'])), {
          decision: 'allow',
          rule: 'grant',
        });
      });
      it('allow and grant beat the default ask', () => {
        assert.equal(verdict('t', policy({ allow: ['t'] })).decision, 'allow');
        assert.equal(verdict('t', policy(), new Set(['t'])).decision, 'allow');
      });
    });

    describe('grants are exact names', () => {
      it('a grant `web_*` does not allow `web_search`', () => {
        assert.deepEqual(verdict('web_search', policy(), new Set(['web_*'])), { decision: 'ask', rule: 'default' });
      });
      it('a grant `*` allows nothing but a tool literally named `*`', () => {
        assert.deepEqual(verdict('web_search', policy(), new Set(['*'])), { decision: 'ask', rule: 'default' });
        assert.deepEqual(verdict('*', policy(), new Set(['*'])), { decision: 'allow', rule: 'grant' });
      });
      it('a grant for another tool does not allow this one', () => {
        assert.deepEqual(verdict('read_file_lines', policy(), new Set(['read_file'])), {
          decision: 'ask',
          rule: 'default',
        });
      });
    });

    describe('reason template', () => {
      const reason = 'Tool {tool} needs review ({tool})';
      it('replaces every {tool} on ask', () => {
        assert.deepEqual(verdict('web_search', policy({ reason })), {
          decision: 'ask',
          rule: 'default',
          reason: 'Tool web_search needs review (web_search)',
        });
      });
      it('is attached to an explicit ask', () => {
        assert.equal(verdict('x', policy({ reason, ask: ['x'] })).reason, 'Tool x needs review (x)');
      });
      it('is attached to deny', () => {
        assert.deepEqual(verdict('rm', policy({ reason, deny: ['rm'] })), {
          decision: 'deny',
          rule: 'deny',
          reason: 'Tool rm needs review (rm)',
        });
      });
      it('is attached to a dontAsk deny', () => {
        assert.equal(verdict('rm', policy({ reason, mode: 'dontAsk' })).reason, 'Tool rm needs review (rm)');
      });
      it('is attached to a kill-switch block', () => {
        assert.deepEqual(verdict('rm', policy({ reason, enabled: false })), {
          decision: 'deny',
          rule: 'disabled',
          reason: 'Tool rm needs review (rm)',
        });
      });
      it('is never attached to allow (allow, grant, bypass, exempt)', () => {
        for (const v of [
          verdict('ls', policy({ reason, allow: ['ls'] })),
          verdict('ls', policy({ reason }), new Set(['ls'])),
          verdict('ls', policy({ reason, mode: 'bypass' })),
          verdict('ls', policy({ reason, enabled: false, allow: ['ls'] })),
          verdict(ASK_USER_QUESTION_TOOL, policy({ reason })),
        ]) {
          assert.equal(v.decision, 'allow');
          assert.equal('reason' in v, false, JSON.stringify(v));
        }
      });
      it('without a template there is no reason field', () => {
        for (const v of [
          verdict('x', policy()),
          verdict('x', policy({ deny: ['x'] })),
          verdict('x', policy({ mode: 'dontAsk' })),
          verdict('x', policy({ enabled: false })),
        ]) {
          assert.equal(v.decision === 'allow', false);
          assert.equal('reason' in v, false, JSON.stringify(v));
        }
      });
      it('a template without {tool} is used as is', () => {
        assert.equal(verdict('x', policy({ reason: 'Needs approval' })).reason, 'Needs approval');
      });
      it('replacement patterns in the tool name are not interpreted', () => {
        assert.equal(verdict("a$&b$'", policy({ reason: '[{tool}]' })).reason, "[a$&b$']");
      });
    });

    describe('kill switch', () => {
      for (const [label, enabled] of [
        ['enabled: false', false],
        ['enabled: undefined', undefined],
      ] as const) {
        describe(label, () => {
          it('blocks what would ask by default', () => {
            assert.deepEqual(verdict('web_search', policy({ enabled })), { decision: 'deny', rule: 'disabled' });
          });
          it('blocks an explicit ask', () => {
            assert.deepEqual(verdict('web_search', policy({ enabled, ask: ['web_*'], mode: 'bypass' })), {
              decision: 'deny',
              rule: 'disabled',
            });
          });
          it('deny still denies', () => {
            assert.deepEqual(verdict('rm', policy({ enabled, deny: ['rm'] })), { decision: 'deny', rule: 'deny' });
          });
          it('dontAsk still denies as dontAsk', () => {
            assert.deepEqual(verdict('rm', policy({ enabled, mode: 'dontAsk' })), {
              decision: 'deny',
              rule: 'dontAsk',
            });
          });
          it('allow still allows', () => {
            assert.deepEqual(verdict('ls', policy({ enabled, allow: ['ls'] })), { decision: 'allow', rule: 'allow' });
          });
          it('a grant still allows', () => {
            assert.deepEqual(verdict('ls', policy({ enabled }), new Set(['ls'])), { decision: 'allow', rule: 'grant' });
          });
          it('bypass still allows', () => {
            assert.deepEqual(verdict('ls', policy({ enabled, mode: 'bypass' })), { decision: 'allow', rule: 'bypass' });
          });
          it('ask_user_question stays exempt', () => {
            assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy({ enabled })), {
              decision: 'allow',
              rule: 'exempt',
            });
          });
        });
      }
      it('the property being absent is the same as undefined', () => {
        const { enabled: _omitted, ...rest } = policy();
        assert.deepEqual(verdict('web_search', rest as ToolPolicy), { decision: 'deny', rule: 'disabled' });
      });
    });

    describe('ask_user_question', () => {
      it('is the tool name `ask_user_question`', () => {
        assert.equal(ASK_USER_QUESTION_TOOL, 'ask_user_question');
      });
      it('is exempt in default mode', () => {
        assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy()), { decision: 'allow', rule: 'exempt' });
      });
      it('is exempt in dontAsk mode', () => {
        assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy({ mode: 'dontAsk' })), {
          decision: 'allow',
          rule: 'exempt',
        });
      });
      it('stays exempt from wildcard entries', () => {
        assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy({ deny: ['*'], ask: ['ask_*'] })), {
          decision: 'allow',
          rule: 'exempt',
        });
      });
      it('an exact deny entry denies it', () => {
        assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy({ deny: [ASK_USER_QUESTION_TOOL] })), {
          decision: 'deny',
          rule: 'deny',
        });
      });
      it('an exact ask entry makes it ask', () => {
        assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy({ ask: [ASK_USER_QUESTION_TOOL] })), {
          decision: 'ask',
          rule: 'ask',
        });
      });
      it('an exact allow entry allows it by the allow rule', () => {
        assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy({ allow: [ASK_USER_QUESTION_TOOL] })), {
          decision: 'allow',
          rule: 'allow',
        });
      });
      it('once named in one list, the other lists apply by glob as usual', () => {
        assert.deepEqual(
          verdict(ASK_USER_QUESTION_TOOL, policy({ allow: [ASK_USER_QUESTION_TOOL], deny: ['ask_*'] })),
          {
            decision: 'deny',
            rule: 'deny',
          },
        );
      });
      it('once named, the kill switch applies to it too', () => {
        assert.deepEqual(verdict(ASK_USER_QUESTION_TOOL, policy({ enabled: false, ask: [ASK_USER_QUESTION_TOOL] })), {
          decision: 'deny',
          rule: 'disabled',
        });
      });
      it('similar names are not exempt', () => {
        assert.deepEqual(verdict('ask_user_question_v2', policy()), { decision: 'ask', rule: 'default' });
        assert.deepEqual(verdict('Ask_User_Question', policy()), { decision: 'ask', rule: 'default' });
      });
    });

    it('does not mutate the policy or the grants', () => {
      const p = policy({ allow: ['a'], deny: ['d'], ask: ['q'], reason: '{tool}' });
      const snapshot = JSON.stringify(p);
      const grants = new Set(['g']);
      verdict('a', p, grants);
      verdict('d', p, grants);
      verdict('q', p, grants);
      verdict('g', p, grants);
      assert.equal(JSON.stringify(p), snapshot);
      assert.deepEqual([...grants], ['g']);
    });
  });
});

describe('a run request can only tighten (evaluateRunPolicy)', () => {
  const tighten = (deny: string[] = [], ask: string[] = []) => ({ deny, ask });
  const decide = (name: string, p: ToolPolicy, t = tighten(), grants?: ReadonlySet<string>) =>
    evaluateRunPolicy(name, p, { tighten: t, ...(grants ? { grants } : {}) });

  it('without tightening it is exactly evaluateToolPolicy', () => {
    for (const p of [
      policy(),
      policy({ mode: 'bypass' }),
      policy({ mode: 'dontAsk', allow: ['a'] }),
      policy({ enabled: false }),
    ]) {
      for (const name of ['a', 'b', ASK_USER_QUESTION_TOOL]) {
        assert.deepEqual(decide(name, p), evaluateToolPolicy(name, p));
        assert.deepEqual(evaluateRunPolicy(name, p), evaluateToolPolicy(name, p));
      }
    }
  });

  it('tighten.deny denies whatever the agent says (allow, bypass, ask, grant), with the reason template', () => {
    const p = policy({ mode: 'bypass', allow: ['write_file'], ask: ['delete_*'], reason: 'no {tool}' });
    for (const name of ['write_file', 'delete_file', 'other']) {
      assert.deepEqual(decide(name, p, tighten(['*'])), {
        decision: 'deny',
        rule: 'tightenDeny',
        reason: `no ${name}`,
      });
    }
    assert.equal(decide('x', policy(), tighten(['x']), new Set(['x'])).decision, 'deny', 'a grant does not undo it');
    assert.deepEqual(decide('x', policy(), tighten(['x'])), { decision: 'deny', rule: 'tightenDeny' });
  });

  it('tighten.ask turns an allow into ask, and a grant cannot undo it', () => {
    assert.deepEqual(decide('write_file', policy({ allow: ['write_file'] }), tighten([], ['write_*'])), {
      decision: 'ask',
      rule: 'tightenAsk',
    });
    assert.equal(decide('x', policy({ mode: 'bypass' }), tighten([], ['x'])).decision, 'ask');
    assert.equal(decide('x', policy(), tighten([], ['x']), new Set(['x'])).decision, 'ask');
  });

  it('tighten.ask never turns a deny into ask (mode dontAsk, deny lists, HITL off)', () => {
    // A plain `ask` entry would beat dontAsk and let an approver run the tool: a request must not.
    assert.deepEqual(decide('write_file', policy({ mode: 'dontAsk' }), tighten([], ['write_file'])), {
      decision: 'deny',
      rule: 'dontAsk',
    });
    assert.equal(decide('rm', policy({ deny: ['rm'] }), tighten([], ['rm'])).decision, 'deny');
    // HITL off: what would ask is blocked, so an asked allow is blocked too.
    assert.deepEqual(decide('read', policy({ enabled: false, allow: ['read'] }), tighten([], ['read'])), {
      decision: 'deny',
      rule: 'disabled',
    });
  });

  it('an ask of the agent stays an ask (tightening adds nothing a person could approve)', () => {
    for (const p of [policy(), policy({ ask: ['x'] })])
      assert.equal(decide('x', p, tighten([], ['x'])).decision, 'ask');
  });

  it('property: tightened verdicts are never more permissive than the agent alone', () => {
    const rank = { allow: 2, ask: 1, deny: 0 } as const;
    const names = ['read_file', 'write_file', 'delete_file', 'web_search', ASK_USER_QUESTION_TOOL, 'x'];
    const patterns = [[], ['*'], ['read_*'], ['*_file'], ['x'], [ASK_USER_QUESTION_TOOL]];
    const policies = [
      policy(),
      policy({ mode: 'bypass' }),
      policy({ mode: 'dontAsk', allow: ['read_*'] }),
      policy({ enabled: false, allow: ['read_file'] }),
      policy({ allow: ['*'], ask: ['delete_*'], deny: ['web_*'] }),
    ];
    for (const p of policies)
      for (const name of names)
        for (const deny of patterns)
          for (const ask of patterns) {
            const before = evaluateToolPolicy(name, p).decision;
            const after = decide(name, p, tighten(deny, ask)).decision;
            assert.ok(rank[after] <= rank[before], `${name} ${JSON.stringify({ p, deny, ask })}: ${before} → ${after}`);
          }
  });
});

describe('MCP annotations as defaults (mcpAnnotations: follow)', () => {
  type Annotations = ToolSpec['annotations'];
  /** An MCP tool `<tool>_mcp_srv` with these annotations. */
  const mcp = (tool: string, annotations?: Annotations): ToolSpec => ({
    name: `${tool}_mcp_srv`,
    description: tool,
    inputSchema: { type: 'object' },
    ...(annotations !== undefined ? { annotations } : {}),
    mcp: { server: 'srv', tool },
  });
  const readOnly = { readOnlyHint: true };
  const destructive = { readOnlyHint: false, destructiveHint: true };
  const additive = { readOnlyHint: false, destructiveHint: false };
  /** The run's verdict for `spec` when the agent follows the annotations. */
  const follow = (spec: ToolSpec, p: ToolPolicy, options: Parameters<typeof evaluateRunPolicy>[2] = {}) =>
    evaluateRunPolicy(spec.name, withAnnotationEntries(p, annotationPolicyEntries(p, [spec])), options);

  it("classes by the MCP specification's defaults: readOnlyHint false, destructiveHint true", () => {
    assert.equal(annotationClass(readOnly), 'readOnly');
    assert.equal(annotationClass({ readOnlyHint: true, destructiveHint: false }), 'readOnly');
    assert.equal(annotationClass(destructive), 'destructive');
    assert.equal(annotationClass(undefined), 'destructive', 'no annotations: not read-only, destructive');
    assert.equal(annotationClass({}), 'destructive');
    assert.equal(annotationClass({ readOnlyHint: false }), 'destructive', 'destructiveHint defaults to true');
    assert.equal(annotationClass({ destructiveHint: false }), 'additive', 'readOnlyHint defaults to false');
    assert.equal(annotationClass(additive), 'additive');
    assert.equal(
      annotationClass({ readOnlyHint: true, destructiveHint: true }),
      'destructive',
      'contradictory: stricter',
    );
    assert.equal(annotationClass({ idempotentHint: true, openWorldHint: false }), 'destructive');
  });

  it('the table: read-only allowed in every mode, destructive asked (denied under dontAsk), additive left to the mode', () => {
    const expected = {
      default: { readOnly: 'allow', destructive: 'ask', additive: 'ask' },
      bypass: { readOnly: 'allow', destructive: 'ask', additive: 'allow' },
      dontAsk: { readOnly: 'allow', destructive: 'deny', additive: 'deny' },
    } as const;
    const specs = { readOnly: mcp('r', readOnly), destructive: mcp('d', destructive), additive: mcp('a', additive) };
    for (const mode of ['default', 'bypass', 'dontAsk'] as const) {
      for (const kind of ['readOnly', 'destructive', 'additive'] as const) {
        assert.equal(follow(specs[kind], policy({ mode })).decision, expected[mode][kind], `${mode} ${kind}`);
      }
    }
  });

  it('only what differs from the mode becomes an entry: exact names, never a glob', () => {
    const specs = [mcp('r', readOnly), mcp('d', destructive), mcp('a', additive), mcp('n')];
    assert.deepEqual(annotationPolicyEntries(policy(), specs), { allow: ['r_mcp_srv'], ask: [] });
    assert.deepEqual(annotationPolicyEntries(policy({ mode: 'bypass' }), specs), {
      allow: [],
      ask: ['d_mcp_srv', 'n_mcp_srv'],
    });
    assert.deepEqual(annotationPolicyEntries(policy({ mode: 'dontAsk' }), specs), { allow: ['r_mcp_srv'], ask: [] });
    const p = policy({ allow: ['x'], ask: ['y'], deny: ['z'] });
    assert.deepEqual(withAnnotationEntries(p, { allow: ['r_mcp_srv'], ask: ['d_mcp_srv'] }), {
      ...p,
      allow: ['x', 'r_mcp_srv'],
      ask: ['y', 'd_mcp_srv'],
    });
  });

  it('under mode default a destructive tool asks through the mode, so a remembered approval still works', () => {
    const spec = mcp('d', destructive);
    assert.deepEqual(follow(spec, policy()), { decision: 'ask', rule: 'default' });
    assert.deepEqual(follow(spec, policy(), { grants: new Set([spec.name]) }), { decision: 'allow', rule: 'grant' });
    // Under bypass it is an `ask` entry: asked every time, like any explicit ask.
    assert.deepEqual(follow(spec, policy({ mode: 'bypass' }), { grants: new Set([spec.name]) }), {
      decision: 'ask',
      rule: 'ask',
    });
  });

  it('explicit entries win, globs included: an annotation never loosens a deny or an ask, nor tightens an allow', () => {
    const r = mcp('read', readOnly);
    const d = mcp('drop', destructive);
    assert.equal(follow(r, policy({ deny: ['read_mcp_srv'] })).decision, 'deny');
    assert.equal(follow(r, policy({ deny: ['*_mcp_srv'] })).decision, 'deny');
    assert.equal(follow(r, policy({ ask: ['*'] })).decision, 'ask');
    assert.equal(follow(r, policy({ ask: ['read_*'], mode: 'bypass' })).decision, 'ask');
    assert.equal(follow(d, policy({ allow: ['*_mcp_srv'], mode: 'bypass' })).decision, 'allow', 'the operator said so');
    assert.equal(follow(d, policy({ allow: ['drop_mcp_srv'] })).decision, 'allow');
    assert.deepEqual(annotationPolicyEntries(policy({ deny: ['*'] }), [r, d]), { allow: [], ask: [] });
  });

  it('never applies to built-in tools, whatever annotations they carry', () => {
    const builtIn: ToolSpec = { name: 'read_file', description: '', inputSchema: {}, annotations: readOnly };
    const lookalike: ToolSpec = { ...builtIn, name: 'read_mcp_srv' };
    assert.deepEqual(annotationPolicyEntries(policy(), [builtIn, lookalike]), { allow: [], ask: [] });
    assert.deepEqual(annotationPolicyEntries(policy({ mode: 'bypass' }), [{ ...builtIn, annotations: destructive }]), {
      allow: [],
      ask: [],
    });
  });

  it("a request's tighten still tightens: its deny and ask beat an annotation's allow", () => {
    const r = mcp('read', readOnly);
    assert.equal(follow(r, policy(), { tighten: { deny: ['read_*'], ask: [] } }).decision, 'deny');
    assert.deepEqual(follow(r, policy(), { tighten: { deny: [], ask: ['*_mcp_srv'] } }), {
      decision: 'ask',
      rule: 'tightenAsk',
    });
  });

  it('HITL off: a read-only tool still runs (an allow entry), what asks is blocked', () => {
    assert.equal(follow(mcp('r', readOnly), policy({ enabled: false })).decision, 'allow');
    assert.deepEqual(follow(mcp('d', destructive), policy({ enabled: false, mode: 'bypass' })), {
      decision: 'deny',
      rule: 'disabled',
    });
  });

  it('property: with the annotations followed, a tool any explicit entry (allow, ask, deny) names is decided exactly as without them', () => {
    const hints: Annotations[] = [
      undefined,
      readOnly,
      destructive,
      additive,
      { readOnlyHint: true, destructiveHint: true },
    ];
    const specs = hints.flatMap((annotations, i) => [mcp(`read${i}`, annotations), mcp(`write${i}`, annotations)]);
    const patterns = [[], ['*'], ['read*'], ['*_mcp_srv'], ['write1_mcp_srv'], ['other']];
    for (const mode of ['default', 'bypass', 'dontAsk'] as const)
      for (const enabled of [true, false])
        for (const deny of patterns)
          for (const ask of patterns)
            for (const allow of patterns) {
              const p = policy({ mode, enabled, deny, ask, allow });
              const followed = withAnnotationEntries(p, annotationPolicyEntries(p, specs));
              for (const spec of specs) {
                const named = [...deny, ...ask, ...allow].some((pattern) => matchesToolPattern(pattern, spec.name));
                if (!named) continue;
                assert.deepEqual(
                  evaluateToolPolicy(spec.name, followed),
                  evaluateToolPolicy(spec.name, p),
                  `${spec.name} ${JSON.stringify(p)}`,
                );
              }
            }
  });
});

describe('claim rules (principals)', () => {
  it('every claim of a rule must hold one of its values; lists match by any item; case-sensitive', () => {
    assert.equal(claimRuleMatches({ role: 'approver' }, { role: 'approver' }), true);
    assert.equal(claimRuleMatches({ role: ['a', 'approver'] }, { role: 'approver' }), true);
    assert.equal(claimRuleMatches({ groups: 'ops' }, { groups: ['dev', 'ops'] }), true);
    assert.equal(claimRuleMatches({ role: 'approver', org: 'acme' }, { role: 'approver' }), false);
    assert.equal(claimRuleMatches({ role: 'approver' }, { role: 'Approver' }), false);
    assert.equal(claimRuleMatches({ role: 'approver' }, { role: 7 }), false);
    assert.equal(claimRuleMatches({ role: 'approver' }, {}), false);
    assert.equal(claimRuleMatches({ role: 'approver' }, undefined), false);
    assert.equal(claimRuleMatches({}, { role: 'approver' }), false, 'an empty rule matches nobody');
    assert.equal(claimRuleMatches({ toString: 'x' }, {}), false, 'inherited properties are not claims');
  });

  it('isApprover: named users, or a claim rule over the verified claims', () => {
    const rules = { users: ['u1', 'boss'], claims: [{ role: 'approver' }] };
    assert.equal(isApprover(rules, 'boss'), true);
    assert.equal(isApprover(rules, 'carol'), false);
    assert.equal(isApprover(rules, 'carol', { role: 'approver' }), true);
    assert.equal(isApprover({ users: [], claims: [] }, 'u1', { role: 'approver' }), false);
  });

  it('approverClaimsFor takes only the claims the rules name, as strings or string lists', () => {
    const token = { sub: 'carol', role: 'approver', groups: ['a', 7, 'b'], secret: 'x', org: { nested: true } };
    assert.deepEqual(approverClaimsFor([{ role: 'approver' }, { groups: 'a', org: 'acme' }], token), {
      role: 'approver',
      groups: ['a', 'b'],
    });
    assert.deepEqual(approverClaimsFor([], token), {});
    assert.deepEqual(approverClaimsFor([{ role: 'x' }], { role: 'y'.repeat(300) }), {}, 'oversized values are dropped');
  });
});
