import { eq } from 'drizzle-orm';
import { notifications } from '../../db/schema';
import { startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

describe('bad input', () => {
  let herald: TestHerald;
  let tenant: TestTenant;

  // Herald's start takes a minute or more on a loaded machine (the workflows are bundled for its worker).
  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_BODY_LIMIT_BYTES: '4096' });
  }, 180_000);
  // A tenant of its own for each test: what one stores, the next does not see.
  beforeEach(async () => {
    tenant = await herald.createTenant();
  });
  afterAll(() => herald?.stop());

  const valid = { channels: ['email'], recipients: [{ email: 'a@example.com' }], message: 'hello' };
  const json = (payload: string, headers: Record<string, string> = {}) =>
    herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: { ...tenant.auth, 'content-type': 'application/json', ...headers },
      payload,
    });

  /** The ids of the tenant's stored notifications. */
  const stored = async () =>
    (
      await herald.db.select({ id: notifications.id }).from(notifications).where(eq(notifications.tenantId, tenant.id))
    ).map((n) => n.id);

  const status = (id: string) =>
    herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }) as ReturnType<typeof json>;

  const cases: [string, () => ReturnType<typeof json>, number, string][] = [
    ['malformed JSON', () => json('{"channels": ['), 400, 'body'],
    ['an empty body', () => json(''), 400, 'body'],
    ['missing channels', () => json(JSON.stringify({ ...valid, channels: undefined })), 400, 'channels'],
    ['an empty channel list', () => json(JSON.stringify({ ...valid, channels: [] })), 400, 'channels'],
    ['an unknown channel', () => json(JSON.stringify({ ...valid, channels: ['email', 'pigeon'] })), 400, 'channels[1]'],
    [
      'an invalid email',
      () => json(JSON.stringify({ ...valid, recipients: [{ email: 'not-an-email' }] })),
      400,
      'recipients[0].email',
    ],
    [
      'an invalid phone number',
      () => json(JSON.stringify({ ...valid, recipients: [{ phone: '12345' }] })),
      400,
      'recipients[0].phone',
    ],
    [
      'a Slack webhook URL on another host',
      () =>
        json(JSON.stringify({ ...valid, recipients: [{ slack_webhook_url: 'https://evil.example.com/services/x' }] })),
      400,
      'recipients[0].slack_webhook_url',
    ],
    [
      'a Discord webhook URL that is not one',
      () => json(JSON.stringify({ ...valid, recipients: [{ discord_webhook_url: 'https://discord.com/channels/1' }] })),
      400,
      'recipients[0].discord_webhook_url',
    ],
    [
      'a Telegram chat id that is not one',
      () => json(JSON.stringify({ ...valid, recipients: [{ telegram_chat_id: 'hello there' }] })),
      400,
      'recipients[0].telegram_chat_id',
    ],
    [
      'an action link that is not http',
      () =>
        json(
          JSON.stringify({ ...valid, message: { text: 'x', actions: [{ label: 'Go', url: 'javascript:alert(1)' }] } }),
        ),
      400,
      'message.actions[0].url',
    ],
    ['empty recipients', () => json(JSON.stringify({ ...valid, recipients: [] })), 400, 'recipients'],
    ['no recipients at all', () => json(JSON.stringify({ ...valid, recipients: undefined })), 400, 'recipients'],
    [
      'a recipient named twice inline',
      () =>
        json(
          JSON.stringify({
            ...valid,
            recipients: [{ email: 'a@example.com' }, { email: 'a@example.com', locale: 'en' }],
          }),
        ),
      422,
      'recipients',
    ],
    [
      'a recipient id named twice',
      () => json(JSON.stringify({ ...valid, recipients: undefined, recipient_ids: ['x', 'x'] })),
      400,
      'recipient_ids',
    ],
    [
      'a string holding a NUL character',
      () => json(JSON.stringify({ ...valid, category: 'a\u0000b' })),
      400,
      'category',
    ],
    [
      'a nested string holding a NUL character',
      () => json(JSON.stringify({ ...valid, recipients: [{ id: 'r', locale: 'e\u0000n' }] })),
      400,
      'recipients[0].locale',
    ],
    [
      'half a surrogate pair in metadata, which JSON in PostgreSQL cannot keep',
      () => json(JSON.stringify({ ...valid, metadata: { note: 'cut \ud83d' } })),
      422,
      'metadata.note',
    ],
    [
      'an unknown recipient id',
      () => json(JSON.stringify({ ...valid, recipients: undefined, recipient_ids: ['nobody'] })),
      422,
      'recipient_ids[0]',
    ],
    [
      'a text longer than a chosen channel carries',
      () => json(JSON.stringify({ ...valid, channels: ['email', 'sms'], message: 'x'.repeat(1601) })),
      422,
      'message.text',
    ],
    [
      'a recipient none of the channels can reach',
      () => json(JSON.stringify({ ...valid, channels: ['sms', 'push'] })),
      422,
      'recipients[0]',
    ],
    [
      'the webhook channel with no endpoint set',
      () => json(JSON.stringify({ ...valid, channels: ['email', 'webhook'] })),
      422,
      'channels[1]',
    ],
    ['an empty message', () => json(JSON.stringify({ ...valid, message: '' })), 400, 'message'],
    [
      'a message without text',
      () => json(JSON.stringify({ ...valid, message: { subject: 's' } })),
      400,
      'message.text',
    ],
    ['an unknown field', () => json(JSON.stringify({ ...valid, colour: 'red' })), 400, 'colour'],
    ['an unknown priority', () => json(JSON.stringify({ ...valid, priority: 'urgent' })), 400, 'priority'],
    ['an id with a control character', () => status('bad%01id'), 400, 'notification_id'],
    ['an id longer than 128 characters', () => status('x'.repeat(129)), 400, 'notification_id'],
    ['an oversize body', () => json(JSON.stringify({ ...valid, message: 'x'.repeat(5000) })), 413, 'body'],
    ['the wrong content type', () => json('channels=email', { 'content-type': 'text/plain' }), 415, 'content-type'],
    ['a missing API key', () => json(JSON.stringify(valid), { authorization: '' }), 401, 'authorization'],
    ['a wrong API key', () => json(JSON.stringify(valid), { authorization: 'Bearer hk_wrong' }), 401, 'authorization'],
    [
      'a malformed Authorization header',
      () => json(JSON.stringify(valid), { authorization: 'Basic abc' }),
      401,
      'authorization',
    ],
  ];

  it.each(cases)('rejects %s with a problem naming the field', async (_name, send, status, field) => {
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem).toMatchObject({ status, field });
    expect(typeof problem.title).toBe('string');
    expect(problem.detail).toEqual(expect.any(String));
    // Nothing of it was stored, and workflows start only from stored notifications.
    expect(await stored()).toEqual([]);
  });

  const notify = (change: Record<string, unknown>) => json(JSON.stringify({ ...valid, ...change }));
  it.each<[string, () => ReturnType<typeof json>, string, RegExp, number?]>([
    [
      'a phone number with spaces',
      () => notify({ recipients: [{ phone: '+1 415 555 0100' }] }),
      'recipients[0].phone',
      /E\.164 form: \+, the country code and the number, digits only, e\.g\. \+14155550100$/,
    ],
    [
      'a phone number of the right shape in no numbering plan',
      () => notify({ recipients: [{ phone: '+19995550100' }] }),
      'recipients[0].phone',
      /no country's numbering plan has it/,
      422,
    ],
    [
      'an empty time zone',
      () => notify({ recipients: [{ email: 'a@example.com', timezone: '' }] }),
      'recipients[0].timezone',
      /IANA time zone name, e\.g\. Europe\/Paris/,
    ],
    [
      'a time zone that does not exist',
      () => notify({ recipients: [{ email: 'a@example.com', timezone: 'Mars/Olympus' }] }),
      'recipients[0].timezone',
      /not in the time zone database/,
      422,
    ],
    [
      'a duration in words',
      () => notify({ fallback: { channels: ['sms'], after: '5 minutes' } }),
      'fallback.after',
      /a whole number and a unit \(ms, s, m, h or d\), e\.g\. 90s, 5m or 2h$/,
    ],
    [
      'a send_at in another form',
      () => notify({ send_at: '01/12/2026 09:00' }),
      'send_at',
      /e\.g\.|such as 2026-12-01T09:00:00Z/,
    ],
    [
      'an email address without a domain',
      () => notify({ recipients: [{ email: 'ada' }] }),
      'recipients[0].email',
      /e\.g\. ada@example\.com$/,
    ],
  ])('says what %s should look like, not which pattern it missed', async (_name, send, field, detail, status = 400) => {
    const res = await send();
    // A value of the documented shape that names nothing known is well-formed: 422.
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ field, detail: expect.stringMatching(detail) });
    expect(res.json().detail.startsWith(`${field} must be `)).toBe(true);
    expect(res.json().detail).not.toMatch(/pattern|format "/);
  });

  it('counts a too-long text in characters, and says how the channel counts it when that differs', async () => {
    const res = await notify({
      channels: ['sms'],
      recipients: [{ phone: '+14155550100' }],
      message: 'a😀'.repeat(534),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      field: 'message.text',
      detail:
        'The text is 1068 characters, 1602 as sms counts them (an emoji or other character beyond U+FFFF counts twice); sms carries at most 1600: shorten it by 2, or leave sms out',
    });
    const plain = await notify({
      channels: ['sms'],
      recipients: [{ phone: '+14155550100' }],
      message: 'é'.repeat(1601),
    });
    expect(plain.json().detail).toBe(
      'The text is 1601 characters; sms carries at most 1600: shorten it by 1, or leave sms out',
    );
  });

  const putRecipient = (id: string, payload: object) =>
    herald.api.inject({ method: 'PUT', url: `/recipients/${id}`, headers: tenant.auth, payload });

  it('names what would reach a recipient no channel can, and accepts one a fallback reaches', async () => {
    expect((await putRecipient('ops-lead', { email: 'lead@example.com' })).statusCode).toBeLessThan(300);
    const stored = await notify({ channels: ['sms', 'voice'], recipients: undefined, recipient_ids: ['ops-lead'] });
    expect(stored.statusCode).toBe(422);
    expect(stored.json()).toMatchObject({
      field: 'recipient_ids[0]',
      detail:
        'The stored recipient "ops-lead" has no address for any of the channels sms, voice: give it phone, or add a channel it has, such as in_app',
    });
    const byFallback = await notify({ channels: ['sms'], fallback: { channels: ['email'], after: '1m' } });
    expect(byFallback.statusCode).toBe(202);
  });

  it('answers 405 with Allow for a method a known path does not take, 404 for an unknown path', async () => {
    for (const method of ['DELETE', 'QUERY'] as const) {
      const res = await herald.api.inject({ method: method as 'DELETE', url: '/status/abc', headers: tenant.auth });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const patch = await herald.api.inject({ method: 'PATCH', url: '/recipients/abc', headers: tenant.auth });
    expect(patch.statusCode).toBe(405);
    expect(patch.headers.allow).toBe('DELETE, GET, PUT');
    const unknown = await herald.api.inject({ method: 'GET', url: '/nowhere', headers: tenant.auth });
    expect(unknown.statusCode).toBe(404);
  });

  it('accepts the valid request the bad ones were made from (the cases fail for their own reason)', async () => {
    const res = await json(JSON.stringify(valid));
    expect(res.statusCode).toBe(202);
    expect(await stored()).toEqual([res.json().notification_id]);
  });

  it('answers unknown routes and bad recipient profiles with problems too', async () => {
    const route = await herald.api.inject({ method: 'GET', url: '/nope', headers: tenant.auth });
    expect(route.statusCode).toBe(404);
    expect(route.headers['content-type']).toMatch(/problem\+json/);
    const profile = await putRecipient('x', { timezone: 'Mars/Olympus' });
    expect(profile.statusCode).toBe(422);
    expect(profile.json().field).toBe('timezone');
  });
});
