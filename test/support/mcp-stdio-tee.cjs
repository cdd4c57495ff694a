#!/usr/bin/env node
// A stdio MCP server behind a tee, for tests that must see what the client sends:
//
//   node mcp-stdio-tee.cjs <log file> <command> [args…]
//
// starts the real server (`command args`) and passes stdin and stdout through unchanged, after appending every
// line the client writes (the stdio transport sends one JSON-RPC message per line) to <log file>. The line is
// logged before the server gets it. When the client closes stdin, the server's stdin is closed too, and the
// server is stopped if it has not exited a second later; this process ends with the server.
/* global setTimeout */
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const [logFile, command, ...args] = process.argv.slice(2);
if (!logFile || !command) {
  process.stderr.write('usage: mcp-stdio-tee.cjs <log file> <command> [args…]\n');
  process.exit(2);
}

const server = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
server.on('error', (error) => {
  process.stderr.write(`mcp-stdio-tee: cannot start ${command}: ${error.message}\n`);
  process.exit(1);
});
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
server.stdout.pipe(process.stdout);
process.stdout.on('error', () => undefined); // the client went away: the server is stopped below
server.stdin.on('error', () => undefined);

let partial = '';
process.stdin.on('data', (chunk) => {
  partial += chunk.toString('utf8');
  let newline;
  while ((newline = partial.indexOf('\n')) >= 0) {
    const line = partial.slice(0, newline).replace(/\r$/, '');
    partial = partial.slice(newline + 1);
    if (line.trim() !== '') fs.appendFileSync(logFile, `${line}\n`);
  }
  server.stdin.write(chunk);
});
process.stdin.on('end', () => {
  server.stdin.end();
  setTimeout(() => server.kill('SIGTERM'), 1000).unref();
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.kill(signal));
}
