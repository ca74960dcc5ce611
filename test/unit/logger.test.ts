import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm';
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

  it('redact contact data at the top level, at any depth and in arrays', () => {
    const { logger, lines } = capture();
    const looped: Record<string, unknown> = { email: 'loop@example.com' };
    looped.self = looped;
    logger.info(
      {
        email: 'top@example.com',
        a: { b: { c: { phone: '+14155550111' } } },
        list: [{ to: 'listed@example.com' }, [{ push_tokens: ['array-token-1'] }]],
        looped,
        note: 'sent to free-text@example.com and +14155550112',
        notification_id: 'n-2',
      },
      'failed for other@example.com',
    );
    const text = JSON.stringify(lines[0]);
    for (const contact of ['top@', '+14155550111', 'listed@', 'array-token-1', 'loop@', 'free-text@', '+14155550112'])
      expect(text).not.toContain(contact);
    expect(text).not.toContain('other@example.com');
    expect(lines[0]).toMatchObject({ notification_id: 'n-2', a: { b: { c: { phone: '[redacted]' } } } });
  });

  it("log a failed query's statement and the server's words, never the values it bound", () => {
    const { logger, lines } = capture();
    const request = { recipients: [{ email: 'bound@example.com', phone: '+14155550113' }], message: 'bound text' };
    const driverError = Object.assign(
      new Error('duplicate key value violates unique constraint "notifications_pkey"'),
      {
        code: '23505',
        severity: 'ERROR',
        detail: 'Key (email)=(detail@example.com) already exists.',
        constraint: 'notifications_pkey',
        table: 'notifications',
        where: "unnamed portal parameter $1 = 'where-value'",
        params: [JSON.stringify(request)],
      },
    );
    const failed = new DrizzleQueryError(
      'with offered as (\n select * from jsonb_to_recordset($1::jsonb))',
      [JSON.stringify(request)],
      driverError,
    );
    logger.error({ err: failed }, 'request failed');
    logger.warn({ error: failed, activityType: 'recordNotification' }, 'Activity failed');
    logger.error(failed);
    const values = ['bound@example.com', '+14155550113', 'bound text', 'detail@example.com', 'where-value', 'params'];
    for (const line of lines) {
      const text = JSON.stringify(line);
      for (const value of values) expect(text).not.toContain(value);
      expect(text).toContain('duplicate key value violates unique constraint');
      expect(text).toContain('with offered as (');
    }
    expect(lines[0]).toMatchObject({ err: { type: 'DatabaseError', code: '23505', constraint: 'notifications_pkey' } });
    expect(lines[2]!.msg).toContain('duplicate key value');
  });

  it('keep contact details and link tokens in a URL out of the request line', () => {
    const serialize = loggerOptions('info').serializers!.req!;
    expect(serialize({ method: 'GET', url: '/recipients/ada%40example.com/preferences' }).url).toBe(
      '/recipients/[email]/preferences',
    );
    expect(serialize({ method: 'POST', url: '/unsubscribe/eyJwdXJwb3NlIjoidW5z.c2lnbmF0dXJl' }).url).toBe(
      '/unsubscribe/[token]',
    );
  });

  it('keep an API key or a recipient token in a URL out of the request line', () => {
    const serialize = loggerOptions('info').serializers!.req!;
    expect(serialize({ method: 'GET', url: '/dev/outbox?limit=5&api_key=hk_secret' })).toEqual({
      method: 'GET',
      url: '/dev/outbox?limit=5&api_key=[redacted]',
      route: undefined,
    });
    expect(serialize({ method: 'GET', url: '/inbox/stream?token=hrt_payload.signature' }).url).toBe(
      '/inbox/stream?token=[redacted]',
    );
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
