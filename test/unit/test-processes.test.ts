// The tests' child processes die with what they started: a killed worker must not leave its stdio MCP
// servers running (the reference servers do not all exit when their stdin closes).
import assert from 'node:assert/strict';
import { isRunning as running } from '../../bench/lib/machine';
import { spawnChild } from '../support/processes';

describe('test processes: kill', () => {
  it('kills the child and what it started, which would outlive it otherwise', async () => {
    // The child starts a grandchild that ignores stdin and never exits on its own, prints its pid and waits.
    const script = [
      "const { spawn } = require('node:child_process');",
      "const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      "console.log('grandchild ' + g.pid);",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawnChild('parent', process.execPath, ['-e', script], {});
    const match = await child.waitFor(/grandchild (\d+)/, 20_000);
    const grandchild = Number(match[1]);
    assert.ok(running(grandchild));
    await child.kill();
    const deadline = Date.now() + 10_000;
    while (running(grandchild) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(running(grandchild), false, `grandchild ${grandchild} outlived its killed parent`);
  });
});
