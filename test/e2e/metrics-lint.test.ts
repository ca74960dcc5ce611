import { serveMetrics } from '../../observability/metrics-server';
import { eventually, startTestHerald, type TestHerald } from '../support/herald';
import { lintExposition } from '../support/exposition-lint';
import { freePort } from '../support/temporal';

/** Every scrape Herald serves passes `promtool check metrics`' naming rules (lintExposition). */
describe('metrics scrapes', () => {
  let herald: TestHerald;
  let auth: { authorization: string };
  beforeAll(async () => {
    herald = await startTestHerald();
    const tenant = await herald.createTenant();
    auth = tenant.auth;
    // A delivery, so the counters and histograms with labels have series to lint.
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: auth,
      payload: { channels: ['email'], recipients: [{ email: 'lint@example.com' }], message: 'metrics' },
    });
    expect(res.statusCode).toBe(202);
    await eventually(
      async () =>
        (
          await herald.api.inject({ method: 'GET', url: '/metrics', headers: { ...auth, accept: 'application/json' } })
        ).json<{ succeeded: number }>().succeeded,
      (succeeded) => succeeded === 1,
      60_000,
    );
  }, 180_000);
  afterAll(() => herald?.stop());

  const scrape = async (headers: Record<string, string> = {}) => {
    const res = await herald.api.inject({
      method: 'GET',
      url: '/metrics',
      headers: { accept: 'text/plain', ...headers },
    });
    expect(res.statusCode).toBe(200);
    return res.body;
  };

  it("the operator's scrape of the API", async () => {
    const text = await scrape();
    expect(text).toContain('herald_delivery_attempts_total{');
    expect(text).toContain('herald_nodejs_active_handles{');
    expect(lintExposition(text)).toEqual([]);
  });

  it("a tenant's scrape", async () => {
    const text = await scrape(auth);
    expect(text).toContain('herald_notifications_succeeded_total{channel="email"} 1');
    expect(lintExposition(text)).toEqual([]);
  });

  it("a separate worker's endpoint, with its readiness", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    let ready = false;
    const server = await serveMetrics(address, () => ready);
    try {
      const text = await fetch(`http://${address}/metrics`).then((r) => r.text());
      expect(text).toContain('herald_delivery_attempts_total{');
      expect(lintExposition(text)).toEqual([]);
      // Readiness follows the worker: not ready until it polls.
      expect((await fetch(`http://${address}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`http://${address}/readyz`)).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('are checked by rules that catch what promtool reports', () => {
    const text = [
      '# HELP a_total A gauge named as a counter.',
      '# TYPE a_total gauge',
      'a_total 1',
      '# HELP b A counter without its suffix.',
      '# TYPE b counter',
      'b 1',
      '# TYPE c_milliseconds histogram',
      'c_milliseconds_bucket{le="+Inf"} 1',
      'c_milliseconds_sum 1',
      'c_milliseconds_count 1',
    ].join('\n');
    expect(lintExposition(text)).toEqual([
      'a_total: non-counter metrics should not have "_total" suffix',
      'b: counter metrics should have "_total" suffix',
      'c_milliseconds: no help text',
      'c_milliseconds: use base unit "seconds" instead of "milliseconds"',
    ]);
  });
});
