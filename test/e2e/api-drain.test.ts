import http from 'node:http';
import { startTestHerald, type TestHerald } from '../support/herald';
import { freePort } from '../support/temporal';

/** POST /notify over a pooled keep-alive connection, as HTTP clients send it: the status, or the error that ended it. */
function notify(port: number, agent: http.Agent, apiKey: string, i: number): Promise<string> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ channels: ['in_app'], recipients: [{ id: `r${i}` }], message: `drain ${i}` });
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/notify',
        agent,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': `drain-${i}`,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(String(response.statusCode)));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    request.end(body);
  });
}

describe('an API stopping while requests arrive', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald();
  }, 180_000);
  afterAll(() => herald?.stop());

  it('accepts every request that reached it and closes as soon as they are answered', async () => {
    const tenant = await herald.createTenant();
    const port = await freePort();
    await herald.api.listen({ port, host: '127.0.0.1' });
    const agent = new http.Agent({ keepAlive: true });
    // The stop begins as the fifth request reaches the server: it and others are being handled, more
    // are on their way in on connections the server has accepted.
    const reached = new Set<string>();
    let closed: Promise<number> | undefined;
    herald.api.server.on('request', (request: http.IncomingMessage) => {
      reached.add(String(request.headers['idempotency-key']));
      if (reached.size !== 5) return;
      const start = Date.now();
      closed = herald.api.close().then(() => Date.now() - start);
    });
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => notify(port, agent, tenant.apiKey, i)));
    agent.destroy();
    // Fastify's keep-alive timeout is 72 s: a connection left open after its answer would hold the close that long.
    expect(await closed).toBeLessThan(10_000);
    // A connection still waiting to be taken when the API stops listening is refused, and sent again
    // elsewhere; every request the API read is accepted and answered.
    const answers = outcomes.map((outcome, i) => ({ key: `drain-${i}`, outcome }));
    expect(answers.filter((a) => reached.has(a.key) && a.outcome !== '202')).toEqual([]);
    expect(reached.size).toBeGreaterThanOrEqual(5);
  }, 120_000);
});
