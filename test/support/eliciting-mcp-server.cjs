// A small MCP server (stdio, the official SDK) for the tests of the elicitation surfaces: its tools
// `create_contact` and `connect` send the `elicitation/create` a test asks for, then return what the client
// answered as JSON text ({"elicitation": <ElicitResult>}). The test writes the request to
// <HITL_TEST_ELICIT_DIR>/<runId>.json after it starts the run; the tool finds it through the run id that
// leads the call's idempotency key in `_meta`, waiting for the file to appear.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');

const dir = process.env.HITL_TEST_ELICIT_DIR;
const IDEMPOTENCY_META_KEY = 'io.temporal-hitl/idempotency-key';

async function requestFor(runId) {
  const file = path.join(dir, `${runId}.json`);
  for (let waited = 0; waited < 60_000; waited += 50) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
    await sleep(50);
  }
  throw new Error(`no elicitation request for run ${runId}`);
}

const server = new McpServer({ name: 'eliciting-test-server', version: '1.0.0' });
for (const name of ['create_contact', 'connect']) {
  server.registerTool(
    name,
    { description: `Asks the user what the test says (${name})`, inputSchema: {} },
    async (_args, extra) => {
      const key = String(extra._meta?.[IDEMPOTENCY_META_KEY] ?? '');
      const runId = key.split('/')[0];
      const params = await requestFor(runId);
      const result = await server.server.elicitInput(params, { timeout: 10 * 60 * 1000 });
      return { content: [{ type: 'text', text: JSON.stringify({ elicitation: result }) }] };
    },
  );
}
server.connect(new StdioServerTransport()).catch((error) => {
  console.error(error);
  process.exit(1);
});
