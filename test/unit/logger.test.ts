import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions } from '../../observability/logger';
import { tracer } from '../../observability/tracing';
import { testTracing } from '../support/tracing';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino(loggerOptions('info'), stream), lines };
}

describe('structured logs', () => {
  it('redact contact data and secrets wherever they appear', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        recipient: { email: 'ada@example.com', phone: '+14155550100', push_tokens: ['device-token-123'] },
        req: { headers: { authorization: 'Bearer hk_secret' } },
        issued: { id: 'hk_0123456789', key: 'hk_0123456789_issued-secret' },
        endpoint: { url: 'https://hooks.example.com', secret: 'whsec_endpoint' },
        providers: {
          twilio: { authToken: 'twilio-token' },
          fcm: { accessToken: 'ya29.token' },
          telegram: { botToken: '123:bot' },
          smtpUrl: 'smtp://user:smtp-password@mail',
        },
        notification_id: 'n-1',
      },
      'accepted',
    );
    const text = JSON.stringify(lines[0]);
    const secrets = ['ada@example.com', '+14155550100', 'device-token-123', 'hk_secret', 'issued-secret'];
    secrets.push('whsec_endpoint', 'twilio-token', 'ya29.token', '123:bot', 'smtp-password');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ notification_id: 'n-1', msg: 'accepted' });
  });

  it('keep an API key in a URL out of the request line', () => {
    const serialize = loggerOptions('info').serializers!.req!;
    expect(serialize({ method: 'GET', url: '/dev/outbox?limit=5&api_key=hk_secret' })).toEqual({
      method: 'GET',
      url: '/dev/outbox?limit=5&api_key=[redacted]',
      route: undefined,
    });
  });

  it('carry the trace id of the span they were written in', () => {
    testTracing();
    const { logger, lines } = capture();
    const traceId = tracer.startActiveSpan('work', (span) => {
      logger.info('inside');
      span.end();
      return span.spanContext().traceId;
    });
    logger.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: traceId });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });
});
