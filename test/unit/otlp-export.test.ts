import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTracing, tracer } from '../../observability/tracing';

describe('OTLP export', () => {
  it('sends finished spans to the configured collector over OTLP/HTTP', async () => {
    const received: { url?: string; type?: string; body: string }[] = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('latin1')));
      req.on('end', () => {
        received.push({ url: req.url, type: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;

    const tracing = startTracing({ serviceName: 'herald-otlp-test', otlpEndpoint: `http://127.0.0.1:${port}` });
    const traceId = tracer.startActiveSpan('exported span', (span) => {
      span.end();
      return span.spanContext().traceId;
    });
    await tracing.shutdown();
    await new Promise<void>((resolve) => collector.close(() => resolve()));

    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe('/v1/traces');
    expect(received[0]!.body).toContain('exported span');
    expect(received[0]!.body).toContain('herald-otlp-test');
    expect(received[0]!.body.toLowerCase()).toContain(traceId.slice(0, 8));
  });
});
