import {
  DISCORD_ORIGIN,
  DiscordWebhookProvider,
  SLACK_ORIGIN,
  SlackWebhookProvider,
  target,
} from '../../activities/providers/chat-webhooks';
import {
  PermanentProviderError,
  TransientProviderError,
  type OutboundMessage,
} from '../../activities/providers/provider';
import { FakeChatWebhooks, FakeWebhookReceiver } from '../fakes/chat';

const SECRET = 'internal-only: db password hunter2';

const message = (to: string): OutboundMessage => ({
  tenantId: 't',
  notificationId: 'n',
  recipientId: 'r',
  channel: 'slack',
  to,
  text: 'Hello',
  deliveryKey: 'n:r:slack',
});

describe('Slack and Discord webhooks behind a configured base URL', () => {
  let chat: FakeChatWebhooks;
  /** Another server on the same machine: no recipient's address may aim Herald at it. */
  let elsewhere: FakeWebhookReceiver;
  const signal = new AbortController().signal;

  beforeEach(async () => {
    chat = await new FakeChatWebhooks().start();
    elsewhere = await new FakeWebhookReceiver().start();
  });
  afterEach(async () => {
    await chat.stop();
    await elsewhere.stop();
  });

  const elsewhereHost = () => new URL(elsewhere.url).host;

  // A tab inside a URL is dropped by the parser, and a backslash is a slash in http(s) URLs.
  const pathsToElsewhere: [string, (host: string) => string][] = [
    ['//host', (host) => `//${host}/x`],
    ['/\\host', (host) => `/\\${host}/x`],
    ['/<tab>/host', (host) => `/\t/${host}/x`],
    ['/%2F%2Fhost', (host) => `/%2F%2F${host}/x`],
    ['/%5Chost', (host) => `/%5C${host}/x`],
  ];

  it.each(pathsToElsewhere)('keeps a Slack path beginning %s on the base URL', async (_, path) => {
    const send = new SlackWebhookProvider(chat.url).send(message(`${SLACK_ORIGIN}${path(elsewhereHost())}`), signal);
    // The fake Slack knows no such hook; what matters is who was asked.
    await expect(send).rejects.toThrow('slack answered 404');
    expect(elsewhere.requests).toHaveLength(0);
    expect(chat.requests).toHaveLength(1);
  });

  it.each(pathsToElsewhere)('keeps a Discord path beginning %s on the base URL', async (_, path) => {
    const send = new DiscordWebhookProvider(chat.url).send(
      { ...message(`${DISCORD_ORIGIN}${path(elsewhereHost())}`), channel: 'discord' },
      signal,
    );
    await expect(send).rejects.toThrow('discord answered 404');
    expect(elsewhere.requests).toHaveLength(0);
    expect(chat.requests).toHaveLength(1);
  });

  it("appends the address's path and query to the base URL's own path, on the base's origin", () => {
    const base = 'http://proxy.internal:8080/slack/';
    expect(target(`${SLACK_ORIGIN}/services/T0/B0/abc?x=1`, SLACK_ORIGIN, base)).toBe(
      'http://proxy.internal:8080/slack/services/T0/B0/abc?x=1',
    );
    expect(target(`${SLACK_ORIGIN}//evil.example/x`, SLACK_ORIGIN, base)).toBe(
      'http://proxy.internal:8080/slack/evil.example/x',
    );
    expect(target(`${SLACK_ORIGIN}/services/a`, SLACK_ORIGIN, 'http://proxy.internal')).toBe(
      'http://proxy.internal/services/a',
    );
    expect(target(`${SLACK_ORIGIN}//evil.example/x`, SLACK_ORIGIN)).toBe(`${SLACK_ORIGIN}//evil.example/x`);
    expect(() => target('https://evil.example/services/a', SLACK_ORIGIN, base)).toThrow(PermanentProviderError);
  });

  it('delivers to a path under the base URL', async () => {
    const provider = new SlackWebhookProvider(`${chat.url}/proxy`);
    chat.down = { status: 200, body: 'ok' };
    await provider.send(message(`${SLACK_ORIGIN}/services/T0/B0/abc`), signal);
    expect(chat.requests.map((r) => r.path)).toEqual(['/proxy/services/T0/B0/abc']);
  });

  describe("errors carry the status, never the webhook's answer", () => {
    it.each([
      ['slack', () => new SlackWebhookProvider(chat.url), `${SLACK_ORIGIN}/services/T0/B0/abc`],
      ['discord', () => new DiscordWebhookProvider(chat.url), `${DISCORD_ORIGIN}/api/webhooks/1/token`],
    ])('%s', async (name, provider, to) => {
      chat.faults.push(
        { status: 500, body: SECRET },
        { status: 404, body: SECRET },
        { status: 429, body: SECRET, headers: { 'retry-after': '7' } },
      );
      const failures: Error[] = [];
      for (let i = 0; i < 3; i++) {
        const sent = await provider()
          .send(message(to), signal)
          .then(
            () => new Error('delivered'),
            (e: Error) => e,
          );
        failures.push(sent);
      }
      expect(failures.map((e) => e.message)).toEqual([
        `${name} answered 500`,
        `${name} answered 404`,
        `${name} answered 429, retry after 7 s`,
      ]);
      expect(failures.map((e) => e.constructor)).toEqual([
        TransientProviderError,
        PermanentProviderError,
        TransientProviderError,
      ]);
      expect(failures[2]).toMatchObject({ retryAfterMs: 7000 });
    });

    it("takes Discord's retry_after from its answer", async () => {
      chat.faults.push({ status: 429, body: { message: SECRET, retry_after: 1.5, global: false } });
      const failure = new DiscordWebhookProvider(chat.url).send(message(`${DISCORD_ORIGIN}/api/webhooks/1/t`), signal);
      await expect(failure).rejects.toMatchObject({
        message: 'discord answered 429, retry after 1.5 s',
        retryAfterMs: 1500,
      });
    });
  });
});
