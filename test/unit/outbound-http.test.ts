import type { LookupAddress } from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_ANSWER_BYTES, httpFailure, request, statusFailure, type HttpReply } from '../../activities/providers/http';
import { PermanentProviderError, TransientProviderError } from '../../activities/providers/provider';
import { publicOnlyDispatcher, publicOnlyLookup, type Lookup } from '../../activities/providers/public-addresses';
import { FakeWebhookReceiver } from '../fakes/chat';

const SECRET = 'aws-secret-access-key=wJalrXUtnFEMI';

/**
 * A loopback server cannot have a public address, so this name stands for a public host: the lookup
 * below answers it with loopback as DNS would answer a public name with a public address, and sends
 * every other name through the real check. The guard's verdict on addresses written in URLs, the
 * part under test, is left whole.
 */
const PUBLIC_NAME = 'hooks.tenant.test';
const lookupWithPublicName: Lookup = (hostname, options, callback) => {
  if (hostname !== PUBLIC_NAME) return publicOnlyLookup(hostname, options, callback);
  const address: LookupAddress = { address: '127.0.0.1', family: 4 };
  if (options.all) callback(null, [address]);
  else callback(null, address.address, address.family);
};

describe('outbound HTTP', () => {
  let endpoint: FakeWebhookReceiver;
  let internal: FakeWebhookReceiver;
  const signal = new AbortController().signal;
  const guard = publicOnlyDispatcher(lookupWithPublicName);

  beforeEach(async () => {
    endpoint = await new FakeWebhookReceiver().start();
    // A service inside the network, as cloud metadata is: it answers anyone who reaches it.
    internal = await new FakeWebhookReceiver().start();
    internal.down = { status: 200, body: SECRET };
  });
  afterEach(async () => {
    await endpoint.stop();
    await internal.stop();
  });
  afterAll(() => guard.close());

  const port = (url: string) => new URL(url).port;
  const publicUrl = (path = '/hook') => `http://${PUBLIC_NAME}:${port(endpoint.url)}${path}`;

  describe('redirects', () => {
    it.each([301, 302, 303, 307, 308])('refuses a %i for good, naming only the status and the host', async (status) => {
      endpoint.down = { status, headers: { location: `${internal.url}/latest/meta-data/iam?token=abc` } };
      const sent = request(`${endpoint.url}/hook`, { body: '{}' }, signal);
      await expect(sent).rejects.toThrow(PermanentProviderError);
      await expect(sent).rejects.toThrow(
        `the endpoint answered ${status}, a redirect to 127.0.0.1:${port(internal.url)}, which Herald does not follow`,
      );
      expect(endpoint.requests).toHaveLength(1);
      expect(internal.requests).toHaveLength(0);
    });

    it('names the endpoint itself for a relative location, and says only "a redirect" without one', async () => {
      endpoint.faults.push({ status: 302, headers: { location: '/elsewhere' } }, { status: 300 });
      await expect(request(`${endpoint.url}/hook`, { body: '{}' }, signal)).rejects.toThrow(
        `answered 302, a redirect to 127.0.0.1:${port(endpoint.url)}, which`,
      );
      await expect(request(`${endpoint.url}/hook`, { body: '{}' }, signal)).rejects.toThrow(
        'the endpoint answered 300, a redirect, which Herald does not follow',
      );
    });

    it('refuses a redirect from a public endpoint through the guard, so the address it names is never reached', async () => {
      endpoint.down = { status: 302, headers: { location: `${internal.url}/latest/meta-data/` } };
      const sent = request(publicUrl(), { body: '{}', dispatcher: guard }, signal);
      await expect(sent).rejects.toThrow(/answered 302, a redirect to 127\.0\.0\.1:\d+, which Herald does not follow/);
      expect(endpoint.requests).toHaveLength(1);
      expect(internal.requests).toHaveLength(0);
    });
  });

  describe('the guard on tenants’ URLs', () => {
    it('lets a public endpoint be reached', async () => {
      const reply = await request(publicUrl(), { body: '{}', dispatcher: guard }, signal);
      expect(reply.status).toBe(200);
      expect(endpoint.requests).toHaveLength(1);
    });

    it('refuses every connection to a non-public address, even one a followed redirect would open', async () => {
      // Were any redirect followed (fetch's own default), the guard still refuses where it leads.
      endpoint.down = { status: 302, headers: { location: `${internal.url}/latest/meta-data/` } };
      const followed = fetch(publicUrl(), { method: 'POST', body: '{}', dispatcher: guard } as RequestInit);
      await expect(followed).rejects.toMatchObject({ cause: { message: /127\.0\.0\.1 is not a public address/ } });
      expect(endpoint.requests).toHaveLength(1);
      expect(internal.requests).toHaveLength(0);
    });

    it.each([
      ['dotted', (p: string) => `http://127.0.0.1:${p}/`, '127.0.0.1'],
      ['decimal', (p: string) => `http://2130706433:${p}/`, '127.0.0.1'],
      ['hex', (p: string) => `http://0x7f.0.0.1:${p}/`, '127.0.0.1'],
      ['octal', (p: string) => `http://0177.0.0.01:${p}/`, '127.0.0.1'],
      ['short', (p: string) => `http://127.1:${p}/`, '127.0.0.1'],
      ['with a trailing dot', (p: string) => `http://127.0.0.1.:${p}/`, '127.0.0.1'],
      ['as IPv4-mapped IPv6', (p: string) => `http://[::ffff:127.0.0.1]:${p}/`, '::ffff:7f00:1'],
      ['as IPv6 loopback', (p: string) => `http://[::1]:${p}/`, '::1'],
      ['as link-local metadata in decimal parts', () => 'http://169.254.43518/latest/meta-data/', '169.254.169.254'],
    ])('refuses an address written %s, without connecting', async (_, url, address) => {
      const sent = request(url(port(internal.url)), { body: '{}', dispatcher: guard }, signal);
      await expect(sent).rejects.toThrow(PermanentProviderError);
      await expect(sent).rejects.toThrow(`${address} is not a public address`);
      expect(internal.requests).toHaveLength(0);
    });
  });

  describe('errors', () => {
    const reply = (status: number, text: string, headers: Record<string, string> = {}): HttpReply => ({
      status,
      headers: new Headers(headers),
      text,
      json: undefined,
    });

    it("keeps a provider API's refusal short and on one line", () => {
      const error = httpFailure('sendgrid', reply(400, `first line\r\n\tsecond\u0000line ${'x'.repeat(500)}`));
      expect(error).toBeInstanceOf(PermanentProviderError);
      expect(error.message).toMatch(/^sendgrid answered 400: first line second line x+…$/);
      expect(error.message.length).toBeLessThanOrEqual('sendgrid answered 400: '.length + 200);
      expect(httpFailure('vonage', reply(500, '')).message).toBe('vonage answered 500');
    });

    it("carries only the status of a tenant's URL, and when to come back from a 429", () => {
      const limited = statusFailure('webhook', reply(429, SECRET, { 'retry-after': '30' }));
      expect(limited).toBeInstanceOf(TransientProviderError);
      expect(limited).toMatchObject({ message: 'webhook answered 429, retry after 30 s', retryAfterMs: 30_000 });
      expect(statusFailure('webhook', reply(404, SECRET, { 'retry-after': '30' })).message).toBe(
        'webhook answered 404',
      );
      expect(statusFailure('discord', reply(503, SECRET), 2_500).message).toBe(
        'discord answered 503, retry after 2.5 s',
      );
    });
  });

  it("reads no more of an endpoint's answer than it needs, however much the endpoint sends", async () => {
    // 32 MiB of answer, streamed as fast as the connection takes it.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    const flood = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const pour = () => {
        while (written < 512 && !response.destroyed) {
          written++;
          if (!response.write(chunk)) return void response.once('drain', pour);
        }
        response.end();
      };
      pour();
    });
    await new Promise<void>((resolve) => flood.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = flood.address() as AddressInfo;
      const reply = await request(`http://127.0.0.1:${port}/hook`, { body: '{}' }, signal);
      expect(reply.status).toBe(200);
      expect(reply.text).toHaveLength(MAX_ANSWER_BYTES);
      expect(written).toBeLessThan(512);
    } finally {
      flood.closeAllConnections();
      await new Promise((resolve) => flood.close(resolve));
    }
  });
});
