import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

/** The shape the README walks a newcomer through: an email and an SMS in English, French and Canadian French. */
const orderShipped = {
  email: {
    subject: '{{ "subject" | t }}',
    mjml: `<mjml><mj-body><mj-section><mj-column>
      <mj-text font-size="18px" color="#333333">{{ "hello" | t: name: name }}</mj-text>
      <mj-button href="https://shop.example/orders/{{ order }}">{{ "track" | t }}</mj-button>
    </mj-column></mj-section></mj-body></mjml>`,
  },
  sms: { text: '{{ "hello" | t: name: name }} {{ "items" | t: count: count }} https://shop.example/o/{{ order }}' },
  locales: {
    en: {
      subject: 'Shipped',
      hello: 'Hello {{ name }}',
      track: 'Track it',
      items: { one: '{{ count }} item', other: '{{ count }} items' },
    },
    fr: {
      subject: 'Expédiée',
      hello: 'Bonjour {{ name }}',
      track: 'Suivre',
      items: { one: '{{ count }} article', many: '{{ count }} d’articles', other: '{{ count }} articles' },
    },
    'fr-CA': { hello: 'Allô {{ name }}' },
  },
  default_locale: 'en',
};

describe('templates: versions, rendering per channel and locale, pinning, preview and clicks', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let other: TestTenant;

  beforeAll(async () => {
    herald = await startTestHerald();
    tenant = await herald.createTenant();
    other = await herald.createTenant();
  }, 180_000);
  afterAll(() => herald?.stop());

  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object, auth = tenant.auth) =>
    herald.api.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
  const outbox = async (notificationId: string) =>
    (await call('GET', `/dev/outbox?notification_id=${notificationId}`)).json().messages as {
      channel: string;
      recipient: string;
      subject?: string;
      text: string;
      html?: string;
      details?: Record<string, unknown>;
    }[];
  const settled = (id: string) =>
    eventually(
      () => call('GET', `/status/${id}`).then((r) => r.json()),
      (s) => !['accepted', 'scheduled', 'sending'].includes(s.status),
    );
  const notify = async (body: object) => {
    const res = await call('POST', '/notify', body);
    expect(res.statusCode).toBe(202);
    return res.json().notification_id as string;
  };

  it('saves immutable versions: the same content twice is the same version, the first is live', async () => {
    const first = await call('PUT', '/templates/order-shipped', orderShipped);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ key: 'order-shipped', version: 1, created: true, live: true });
    // fr-CA finds what it lacks in fr; nothing is missing anywhere.
    expect(first.json().missing_translations).toEqual({});

    const again = await call('PUT', '/templates/order-shipped', orderShipped);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ version: 1, created: false, live: true });

    const list = (await call('GET', '/templates')).json().templates;
    expect(list).toEqual([expect.objectContaining({ key: 'order-shipped', live_version: 1, latest_version: 1 })]);
    const version = (await call('GET', '/templates/order-shipped/versions/1')).json();
    expect(version).toMatchObject({ key: 'order-shipped', version: 1, live: true, content: orderShipped });

    const audit = (await call('GET', '/audit?action=template.saved')).json().events;
    expect(audit).toEqual([expect.objectContaining({ action: 'template.saved', target: 'order-shipped@1' })]);
  });

  it('reports the translations each locale lacks, plural forms its language needs included', async () => {
    const res = await call('PUT', '/templates/gaps', {
      sms: { text: '{{ "hello" | t }} {{ "files" | t: count: n }}' },
      locales: {
        en: { hello: 'Hello', files: { one: '{{ count }} file', other: '{{ count }} files' } },
        pl: { files: { one: '{{ count }} plik', other: '{{ count }} pliku' } },
      },
      default_locale: 'en',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().missing_translations).toEqual({
      pl: expect.arrayContaining(['hello', 'files.few', 'files.many']),
    });
  });

  it("keeps templates to their tenant: another tenant's key finds nothing", async () => {
    for (const [method, url, body] of [
      ['GET', '/templates/order-shipped', undefined],
      ['GET', '/templates/order-shipped/versions/1', undefined],
      ['POST', '/templates/order-shipped/publish', { version: 1 }],
      ['POST', '/templates/order-shipped/preview', { channel: 'sms' }],
      ['DELETE', '/templates/order-shipped', undefined],
    ] as const) {
      expect({ url, status: (await call(method, url, body, other.auth)).statusCode }).toEqual({ url, status: 404 });
    }
    expect((await call('GET', '/templates', undefined, other.auth)).json().templates).toEqual([]);
    const refused = await call(
      'POST',
      '/notify',
      { channels: ['sms'], recipients: [{ phone: '+14155550100' }], template: 'order-shipped' },
      other.auth,
    );
    expect(refused.statusCode).toBe(422);
    expect(refused.json().field).toBe('template');
  });

  it('refuses a template that does not parse, naming the channel, line and column', async () => {
    const res = await call('PUT', '/templates/broken', {
      sms: { text: 'Hi {{ name' },
      email: { subject: 'x', html: '<p>\n{% if %}</p>' },
    });
    expect(res.statusCode).toBe(422);
    const problem = res.json();
    expect(problem.field).toMatch(/^(sms\.text|email\.html)$/);
    expect(problem.detail).toMatch(/line \d+, column \d+/);
    expect((await call('GET', '/templates/broken')).statusCode).toBe(404);
  });

  it('sends each recipient the text of their locale through the fallback chain, with the version in the status', async () => {
    const id = await notify({
      channels: ['email', 'sms'],
      recipients: [
        { id: 'ada', email: 'ada@example.com', phone: '+14155550101', locale: 'en' },
        { id: 'amelie', email: 'amelie@example.com', phone: '+33612345678', locale: 'fr' },
        { id: 'gaston', email: 'gaston@example.com', phone: '+15145550100', locale: 'fr-CA' },
      ],
      template: 'order-shipped',
      data: { name: 'Lou', count: 3, order: 'A-17' },
    });
    const status = await settled(id);
    expect(status.status).toBe('delivered');
    for (const d of status.deliveries)
      expect(d).toMatchObject({ template: 'order-shipped', version: 1, locale: expect.any(String) });

    const sent = await outbox(id);
    const sms = (recipient: string) => sent.find((m) => m.channel === 'sms' && m.recipient === recipient)!;
    const email = (recipient: string) => sent.find((m) => m.channel === 'email' && m.recipient === recipient)!;
    expect(sms('+14155550101').text).toMatch(/^Hello Lou 3 items /);
    expect(sms('+33612345678').text).toMatch(/^Bonjour Lou 3 articles /);
    // fr-CA has its own greeting; the plural comes from fr.
    expect(sms('+15145550100').text).toMatch(/^Allô Lou 3 articles /);
    expect(email('amelie@example.com').subject).toBe('Expédiée');
    expect(email('gaston@example.com').subject).toBe('Expédiée');
    // MJML compiled to responsive HTML with its styles inlined, and a text part derived from it.
    const html = email('ada@example.com').html!;
    expect(html).toMatch(/<table/);
    expect(html).toMatch(/style="[^"]*font-size:18px/);
    expect(html).toContain('Hello Lou');
    expect(email('ada@example.com').text).toContain('Hello Lou');
    expect(email('ada@example.com').details).toMatchObject({ template: 'order-shipped', version: 1, locale: 'en' });
    expect(sms('+15145550100').details).toMatchObject({ locale: 'fr-CA', segments: 1 });
  });

  it('renders the version live at accept, though another is published before the send', async () => {
    const v2 = await call('PUT', '/templates/order-shipped', {
      ...orderShipped,
      sms: { text: 'v2: {{ "hello" | t: name: name }}' },
    });
    expect(v2.json()).toMatchObject({ version: 2, created: true, live: false });
    const id = await notify({
      channels: ['sms'],
      recipients: [{ id: 'ada', phone: '+14155550101', locale: 'en' }],
      template: 'order-shipped',
      data: { name: 'Ada', count: 1, order: 'B-2' },
      send_at: new Date(Date.now() + 3000).toISOString(),
    });
    const published = await call('POST', '/templates/order-shipped/publish', { version: 2 });
    expect(published.json()).toEqual({ key: 'order-shipped', live_version: 2 });
    await settled(id);
    const [sms] = await outbox(id);
    expect(sms!.text).toMatch(/^Hello Ada 1 item /);
    expect(sms!.details).toMatchObject({ version: 1 });

    const later = await notify({
      channels: ['sms'],
      recipients: [{ id: 'ada', phone: '+14155550101', locale: 'en' }],
      template: 'order-shipped',
      data: { name: 'Ada', count: 1, order: 'B-3' },
    });
    await settled(later);
    expect((await outbox(later))[0]!.text).toBe('v2: Hello Ada');
    await call('POST', '/templates/order-shipped/publish', { version: 1 });
  });

  it('previews a channel in a locale with warnings, and never fails on a missing variable', async () => {
    const res = await call('POST', '/templates/order-shipped/preview', {
      channel: 'sms',
      locale: 'fr-CA',
      data: { count: 2, order: 'C-1' },
    });
    expect(res.statusCode).toBe(200);
    const preview = res.json();
    expect(preview).toMatchObject({ key: 'order-shipped', version: 1, channel: 'sms', locale: 'fr-CA' });
    expect(preview.rendered.text).toMatch(/^Allô\s+2 articles/);
    const codes = preview.warnings.map((w: { code: string }) => w.code);
    expect(codes).toContain('missing_variable');
    expect(codes).toContain('sms_segments');
    const email = (
      await call('POST', '/templates/order-shipped/preview', { channel: 'email', locale: 'de', data: { name: 'Jo' } })
    ).json();
    expect(email.locale).toBe('en');
    expect(email.warnings.map((w: { code: string }) => w.code)).toContain('locale_fallback');
    expect(email.rendered.html).toContain('Hello Jo');
  });

  it('refuses what cannot be rendered at accept, naming the field', async () => {
    const both = await call('POST', '/notify', {
      channels: ['sms'],
      recipients: [{ phone: '+14155550100' }],
      template: 'order-shipped',
      message: 'hi',
    });
    expect(both.statusCode).toBe(422);
    expect(both.json().field).toBe('template');
    const neither = await call('POST', '/notify', { channels: ['sms'], recipients: [{ phone: '+14155550100' }] });
    expect(neither.statusCode).toBe(422);
    expect(neither.json().field).toBe('message');
    const noBody = await call('POST', '/notify', {
      channels: ['sms', 'push'],
      recipients: [{ phone: '+14155550100' }],
      template: 'order-shipped',
    });
    expect(noBody.statusCode).toBe(422);
    expect(noBody.json()).toMatchObject({ field: 'channels', detail: expect.stringContaining('no push body') });
  });

  it('fails a hostile template for good within its limit, and the worker goes on serving', async () => {
    await call('PUT', '/templates/hostile', { sms: { text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' } });
    const hostile = await notify({ channels: ['sms'], recipients: [{ phone: '+14155550100' }], template: 'hostile' });
    const failed = await settled(hostile);
    expect(failed.status).toBe('failed');
    expect(failed.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.deliveries[0].error).toMatch(/template did not render/);
    const fine = await notify({
      channels: ['sms'],
      recipients: [{ phone: '+14155550100' }],
      template: 'order-shipped',
      data: { name: 'Z', count: 1, order: 'Z' },
    });
    expect((await settled(fine)).status).toBe('delivered');
  });

  it('counts a click on a tracked link and redirects to the original; a forged token goes nowhere', async () => {
    const id = await notify({
      channels: ['sms'],
      recipients: [{ id: 'clicker', phone: '+14155550109', locale: 'en' }],
      template: 'order-shipped',
      data: { name: 'Cy', count: 1, order: 'D-4' },
    });
    await settled(id);
    const [sms] = await outbox(id);
    const tracked = /https?:\/\/\S+\/r\/(\S+)/.exec(sms!.text);
    expect(tracked).not.toBeNull();
    expect(sms!.text).not.toContain('https://shop.example/o/D-4');

    const clicks = async () => {
      const text = (await herald.api.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(/^herald_link_clicks_total\{channel="sms"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await clicks();
    // A link preview's HEAD forwards without counting; each GET counts once.
    const head = await herald.api.inject({ method: 'HEAD', url: `/r/${tracked![1]}` });
    expect(head.statusCode).toBe(302);
    expect(await clicks()).toBe(before);
    // A chat app fetching the link for its preview is no one's click either.
    const unfurl = await herald.api.inject({
      method: 'GET',
      url: `/r/${tracked![1]}`,
      headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' },
    });
    expect(unfurl.headers.location).toBe('https://shop.example/o/D-4');
    expect((await call('GET', `/status/${id}`)).json().deliveries[0].status).toBe('delivered');
    const click = await herald.api.inject({ method: 'GET', url: `/r/${tracked![1]}` });
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe('https://shop.example/o/D-4');
    expect(await clicks()).toBe(before + 1);
    await eventually(
      () => call('GET', `/status/${id}`).then((r) => r.json()),
      (s) => s.deliveries[0].status === 'clicked',
    );

    // The id is short enough for an SMS, and another one, however formed, leads nowhere.
    expect(tracked![1]).toHaveLength(16);
    const link = tracked![1]!;
    const forged = `${link.slice(0, 15)}${link.endsWith('A') ? 'B' : 'A'}`;
    const refused = await herald.api.inject({ method: 'GET', url: `/r/${forged}` });
    expect(refused.statusCode).toBe(404);
    expect(refused.headers.location).toBeUndefined();
  });

  it('leaves links alone when the tenant turns click tracking off', async () => {
    const off = await call('PUT', '/settings/templates', { click_tracking: false, default_locale: 'fr' });
    expect(off.json()).toEqual({ click_tracking: false, default_locale: 'fr' });
    const id = await notify({
      channels: ['sms'],
      recipients: [{ phone: '+14155550110' }],
      template: 'order-shipped',
      data: { name: 'Di', count: 1, order: 'E-5' },
    });
    await settled(id);
    // No locale of the recipient's: the tenant's default, French.
    expect((await outbox(id))[0]!.text).toBe('Bonjour Di 1 article https://shop.example/o/E-5');
    await call('PUT', '/settings/templates', { click_tracking: true });
  });

  it('renders layouts and partials at the versions live at accept', async () => {
    await call('PUT', '/templates/brand', { layout: '[Shop] {% block content %}{% endblock %} --' });
    await call('PUT', '/templates/footer', { partial: 'Reply STOP to opt out' });
    const saved = await call('PUT', '/templates/notice', {
      sms: { text: "{% layout 'brand' %}{% block content %}Hi {{ name }}. {% render 'footer' %}{% endblock %}" },
    });
    expect(saved.json()).toMatchObject({ version: 1, warnings: [] });
    const version = (await call('GET', '/templates/notice/versions/1')).json();
    expect(version.references.sort()).toEqual(['brand', 'footer']);

    const id = await notify({
      channels: ['sms'],
      recipients: [{ phone: '+14155550111' }],
      template: 'notice',
      data: { name: 'Al' },
      send_at: new Date(Date.now() + 3000).toISOString(),
    });
    // A new footer is published after the accept: the notification keeps the one it pinned.
    await call('PUT', '/templates/footer', { partial: 'Text STOP to end' });
    await call('POST', '/templates/footer/publish', { version: 2 });
    await settled(id);
    expect((await outbox(id))[0]!.text).toBe('[Shop] Hi Al. Reply STOP to opt out --');

    // Templates that render each other in a circle would never end: refused where it can be known.
    const itself = await call('PUT', '/templates/ouroboros', { partial: "x {% render 'ouroboros' %}" });
    expect(itself.statusCode).toBe(422);
    await call('PUT', '/templates/ping', { partial: "{% render 'pong' %}" });
    await call('PUT', '/templates/pong', { partial: "{% render 'ping' %}" });
    await call('PUT', '/templates/rally', { sms: { text: "{% render 'ping' %}" } });
    const circle = await call('POST', '/notify', {
      channels: ['sms'],
      recipients: [{ phone: '+14155550111' }],
      template: 'rally',
    });
    expect(circle.statusCode).toBe(422);
    expect(circle.json()).toMatchObject({ field: 'template', detail: expect.stringContaining('ping → pong → ping') });

    const unknown = await call('PUT', '/templates/dangling', { sms: { text: "{% render 'nowhere' %}" } });
    expect(unknown.json().warnings).toEqual([expect.stringContaining('"nowhere"')]);
    const refused = await call('POST', '/notify', {
      channels: ['sms'],
      recipients: [{ phone: '+14155550111' }],
      template: 'dangling',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ field: 'template', detail: expect.stringContaining('"nowhere"') });
  });

  it('changes templates only with the admin scope, and refuses versions past what exists', async () => {
    const key = (await call('POST', '/keys', { name: 'sender', scopes: ['send', 'read'] })).json().key as string;
    const sender = { authorization: `Bearer ${key}` };
    expect((await call('PUT', '/templates/order-shipped', { sms: { text: 'x' } }, sender)).statusCode).toBe(403);
    expect((await call('POST', '/templates/order-shipped/publish', { version: 1 }, sender)).statusCode).toBe(403);
    expect((await call('POST', '/templates/order-shipped/preview', { channel: 'sms' }, sender)).statusCode).toBe(200);
    expect((await call('POST', '/templates/order-shipped/publish', { version: 99_999_999_999 })).statusCode).toBe(400);
    expect((await call('POST', '/templates/order-shipped/publish', { version: 999 })).statusCode).toBe(404);
    expect((await call('POST', '/templates/order-shipped/preview', { channel: 'sms', version: 999 })).statusCode).toBe(
      404,
    );
  });

  it('deletes a template for new notifications', async () => {
    await call('PUT', '/templates/gone', { sms: { text: 'bye' } });
    expect((await call('DELETE', '/templates/gone')).statusCode).toBe(204);
    expect((await call('GET', '/templates/gone')).statusCode).toBe(404);
    const res = await call('POST', '/notify', {
      channels: ['sms'],
      recipients: [{ phone: '+14155550100' }],
      template: 'gone',
    });
    expect(res.statusCode).toBe(422);
    expect((await call('GET', '/audit?action=template.deleted')).json().events).toHaveLength(1);
  });
});
