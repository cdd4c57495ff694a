import assert from 'node:assert/strict';
import * as net from 'node:net';
import { assertPortFree, DevServerError, PortInUseError, startDevServer } from '../../src/dev/dev-server';
import { searchAttributeCliArgs } from '../../src/dev/search-attributes';
import { resolveTemporalCliPath, TemporalCliNotFoundError } from '../../src/dev/temporal-cli';

// Only the parts that need no Temporal server; `npm start` and test/workflow/smoke.test.ts cover the rest.
describe('dev server launcher', () => {
  it('passes the five Hitl* search attributes to start-dev with the CLI type names', () => {
    assert.deepEqual(searchAttributeCliArgs(), [
      '--search-attribute',
      'HitlStatus=Keyword',
      '--search-attribute',
      'HitlUserId=Keyword',
      '--search-attribute',
      'HitlConversationId=Keyword',
      '--search-attribute',
      'HitlPendingTools=KeywordList',
      '--search-attribute',
      'HitlExpiresAt=Datetime',
    ]);
  });

  it('refuses a port in use with a one-line message naming the variable', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await assert.rejects(assertPortFree('127.0.0.1', port, 'TEMPORAL_DEV_PORT'), (err: unknown) => {
        assert.ok(err instanceof PortInUseError);
        assert.ok(err instanceof DevServerError);
        assert.equal(err.port, port);
        assert.match(
          err.message,
          new RegExp(`^port ${port} is in use — is another Temporal server running\\? Set TEMPORAL_DEV_PORT=`),
        );
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    await assertPortFree('127.0.0.1', port, 'TEMPORAL_DEV_PORT'); // free again
  });

  it('refuses a port variable that is not a port', async () => {
    await assert.rejects(startDevServer({ env: { TEMPORAL_DEV_PORT: '72x3' } }), {
      name: 'DevServerError',
      message: 'TEMPORAL_DEV_PORT=72x3 is not a port number (1-65535)',
    });
  });

  it('resolveTemporalCliPath says how to install the CLI when TEMPORAL_CLI_PATH is wrong', () => {
    assert.throws(
      () => resolveTemporalCliPath({ TEMPORAL_CLI_PATH: '/nonexistent/temporal' }),
      (err: unknown) => err instanceof TemporalCliNotFoundError && /npm run temporal-cli/.test(err.message),
    );
  });
});
