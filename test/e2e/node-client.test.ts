import { createHeraldClient, type HeraldClient } from '../../clients/node/src';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

/** The typed Node client (`clients/node`) against a Herald listening on a port, as an app uses it. */
describe('the Node client', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let baseUrl: string;
  let app: HeraldClient;
  beforeAll(async () => {
    herald = await startTestHerald();
    tenant = await herald.createTenant();
    baseUrl = await herald.api.listen({ port: 0, host: '127.0.0.1' });
    app = createHeraldClient({ baseUrl, apiKey: tenant.apiKey });
  }, 180_000);
  afterAll(() => herald?.stop());

  it('sends a notification and reads its status', async () => {
    const sent = await app.POST('/notify', {
      body: { channels: ['in_app'], recipients: [{ id: 'ada' }], message: 'Hello from the Node client' },
    });
    expect(sent.response.status).toBe(202);
    expect(sent.error).toBeUndefined();
    const id = sent.data!.notification_id;
    expect(sent.data!.status_url).toBe(`/status/${id}`);

    const status = await eventually(
      () => app.GET('/status/{notification_id}', { params: { path: { notification_id: id } } }),
      ({ data }) => data?.status === 'delivered',
    );
    expect(status.data).toMatchObject({
      notification_id: id,
      deliveries: [expect.objectContaining({ recipient_id: 'ada', channel: 'in_app', status: 'delivered' })],
    });
  });

  it("opens a recipient's inbox with a recipient token: lists, marks read, counts, and nothing else", async () => {
    await app.POST('/notify', { body: { channels: ['in_app'], recipients: [{ id: 'lou' }], message: 'For Lou' } });
    const issued = await app.POST('/recipients/{id}/tokens', {
      params: { path: { id: 'lou' } },
      body: { ttl: '10m' },
    });
    expect(issued.response.status).toBe(201);
    const browser = createHeraldClient({ baseUrl, token: issued.data!.token });
    const lou = { params: { path: { id: 'lou' } } };

    const inbox = await eventually(
      () => browser.GET('/recipients/{id}/inbox', lou),
      ({ data }) => (data?.messages.length ?? 0) > 0,
    );
    expect(inbox.data!.messages).toEqual([expect.objectContaining({ text: 'For Lou', read_at: null })]);
    const message = inbox.data!.messages[0]!;

    const read = await browser.POST('/recipients/{id}/inbox/read', { ...lou, body: { ids: [message.id] } });
    expect(read.data).toEqual({ changed: 1, counts: { unread: 0, unseen: 0, total: 1 } });
    const counts = await browser.GET('/recipients/{id}/inbox/counts', lou);
    expect(counts.data).toEqual({ unread: 0, unseen: 0, total: 1 });

    // The client sent the token, not a key: it opens no one else's inbox, and no tenant route.
    const other = await browser.GET('/recipients/{id}/inbox', { params: { path: { id: 'ada' } } });
    expect(other.response.status).toBe(403);
    expect((await browser.GET('/audit')).response.status).toBe(401);
  });

  it('gives a refusal as a problem in `error` that names the field', async () => {
    const refused = await app.POST('/notify', {
      body: { channels: ['email'], recipients: [{ email: 'not an address' }], message: 'x' },
    });
    expect(refused.data).toBeUndefined();
    expect(refused.response.status).toBe(400);
    expect(refused.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.error).toMatchObject({ status: 400, field: 'recipients[0].email', detail: expect.any(String) });

    // The types refuse what the API refuses: a body without channels, or without any recipient.
    // @ts-expect-error `channels` is required
    const noChannels = await app.POST('/notify', { body: { recipients: [{ id: 'ada' }], message: 'x' } });
    expect(noChannels.error).toMatchObject({ status: 400, field: 'channels' });
    // @ts-expect-error `recipients` or `recipient_ids` is required
    const noOne = await app.POST('/notify', { body: { channels: ['in_app'], message: 'x' } });
    expect(noOne.response.status).toBe(400);
  });

  it('sends no credential unless given one, and takes a key or a token, not both', async () => {
    const anonymous = createHeraldClient({ baseUrl });
    expect((await anonymous.GET('/healthz')).data).toEqual({ status: 'ok' });
    const { error, response } = await anonymous.GET('/audit');
    expect(response.status).toBe(401);
    expect(error).toMatchObject({ field: 'authorization' });
    expect(() => createHeraldClient({ baseUrl, apiKey: tenant.apiKey, token: 'hrt_x' })).toThrow(/not both/);
  });
});
