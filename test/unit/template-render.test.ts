import { templateReferences, type TemplateContent } from '../../domain/templates/content';
import {
  checkTemplate,
  CompiledTemplateCache,
  compileEmail,
  previewTemplate,
  previewWarnings,
  renderTemplate,
  TemplateRenderError,
  type RenderJob,
} from '../../domain/templates/render';

const job = (
  content: TemplateContent,
  channel: RenderJob['channel'],
  data: Record<string, unknown> = {},
  extra: Partial<RenderJob> = {},
) => ({ content, channel, data, sources: {}, ...extra }) as RenderJob;

const render = (...args: Parameters<typeof job>) => renderTemplate(job(...args));

/** The error a render fails with (the test fails if it does not). */
async function renderError(promise: Promise<unknown>): Promise<TemplateRenderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TemplateRenderError);
  return error as TemplateRenderError;
}

const everyChannel: TemplateContent = {
  email: { subject: 'Order {{ order }}', html: '<p>Hi {{ name }}</p>', text: 'Hi {{ name }}, order {{ order }}' },
  sms: { text: 'SMS {{ name }} {{ order }}' },
  push: { title: 'Push {{ order }}', body: 'For {{ name }}', data: { order: '{{ order }}', kind: 'shipped' } },
  telegram: { text: 'Telegram {{ name }}' },
  slack: {
    text: 'Slack {{ order }}',
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*{{ name }}* ordered {{ order }}' } }],
  },
  discord: { text: 'Discord {{ name }}' },
  voice: { text: 'Voice {{ name }}' },
  in_app: { title: 'In-app {{ order }}', body: 'For {{ name }}', action_url: 'https://shop.example/o/{{ order }}' },
  webhook: { payload: { event: 'shipped', order: { id: '{{ order }}', lines: [1, 2] }, to: ['{{ name }}'], ok: true } },
};
const person = { name: 'Ada', order: 'A-7' };

describe('rendering every channel', () => {
  it('maps each channel’s body to the message it carries', async () => {
    expect((await render(everyChannel, 'email', person)).message).toEqual({
      subject: 'Order A-7',
      html: '<p>Hi Ada</p>',
      text: 'Hi Ada, order A-7',
    });
    expect((await render(everyChannel, 'sms', person)).message).toEqual({ text: 'SMS Ada A-7' });
    expect((await render(everyChannel, 'push', person)).message).toEqual({
      subject: 'Push A-7',
      text: 'For Ada',
      data: { order: 'A-7', kind: 'shipped' },
    });
    expect((await render(everyChannel, 'telegram', person)).message).toEqual({ text: 'Telegram Ada' });
    expect((await render(everyChannel, 'slack', person)).message).toEqual({
      text: 'Slack A-7',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Ada* ordered A-7' } }],
    });
    expect((await render(everyChannel, 'discord', person)).message).toEqual({ text: 'Discord Ada' });
    expect((await render(everyChannel, 'voice', person)).message).toEqual({ text: 'Voice Ada' });
    expect((await render(everyChannel, 'in_app', person)).message).toEqual({
      subject: 'In-app A-7',
      text: 'For Ada',
      actionUrl: 'https://shop.example/o/A-7',
    });
    const webhook = (await render(everyChannel, 'webhook', person)).message;
    expect(webhook.payload).toEqual({ event: 'shipped', order: { id: 'A-7', lines: [1, 2] }, to: ['Ada'], ok: true });
    expect(JSON.parse(webhook.text)).toEqual(webhook.payload);
  });

  it('refuses a channel the version has no body for', async () => {
    const error = await renderError(render({ sms: { text: 'x' } }, 'push'));
    expect(error.message).toBe('the template has no push body');
    expect(error.channel).toBe('push');
  });

  it('escapes data in email HTML, but not in plain-text channels or the subject', async () => {
    const content: TemplateContent = {
      email: { subject: '{{ name }}', html: '<p>{{ name }}</p><p>{{ name | raw }}</p>' },
      sms: { text: '{{ name }}' },
    };
    const name = `<script>alert("x")</script> & 'Tom'`;
    const email = (await render(content, 'email', { name })).message;
    expect(email.html).toBe(`<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;Tom&#39;</p><p>${name}</p>`);
    expect(email.subject).toBe(name);
    expect((await render(content, 'sms', { name })).message.text).toBe(name);
  });

  it('keeps a translation’s own markup in HTML and escapes the args it prints', async () => {
    const content: TemplateContent = {
      email: { subject: '{{ "hi" | t: name: name }}', html: '<p>{{ "hi" | t: name: name }}</p>' },
      locales: { en: { hi: 'Hi <b>{{ name }}</b>' } },
      default_locale: 'en',
    };
    const email = (await render(content, 'email', { name: '<i>Bo</i>' })).message;
    expect(email.html).toBe('<p>Hi <b>&lt;i&gt;Bo&lt;/i&gt;</b></p>');
    expect(email.subject).toBe('Hi <b><i>Bo</i></b>');
  });
});

describe('one compiled version, shared by every channel that renders it', () => {
  it("renders each channel's own body, though fields of several channels share a name", async () => {
    const cache = new CompiledTemplateCache();
    const shared = (channel: RenderJob['channel']) =>
      renderTemplate(job(everyChannel, channel, person, { cacheKey: 'tenant/order@1' }), cache);
    const texts = [];
    for (const channel of ['sms', 'telegram', 'discord', 'voice', 'slack'] as const)
      texts.push((await shared(channel)).message.text);
    expect(texts).toEqual(['SMS Ada A-7', 'Telegram Ada', 'Discord Ada', 'Voice Ada', 'Slack A-7']);
    expect((await shared('push')).message).toMatchObject({ subject: 'Push A-7', text: 'For Ada' });
    expect((await shared('in_app')).message).toMatchObject({ subject: 'In-app A-7', text: 'For Ada' });
  });
});

describe('email from MJML', () => {
  const mjml = `<mjml>
  <mj-head><mj-style inline="inline">.lead { color: #b00b1e; }</mj-style></mj-head>
  <mj-body>
    <mj-section><mj-column>
      <mj-text css-class="lead">Hello {{ name }}</mj-text>
      <mj-text>{% if count > 1 %}You have {{ count }} parcels{% else %}One parcel{% endif %}</mj-text>
      <mj-button href="https://shop.example/t/{{ order }}?src=mail&amp;n=1">Track</mj-button>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;
  const content: TemplateContent = { email: { subject: 'Parcel {{ order }}', mjml } };

  it('compiles to HTML with styles inlined and the Liquid left in it', async () => {
    const { html, errors } = await compileEmail(content);
    expect(errors).toEqual([]);
    expect(html).toContain('Hello {{ name }}');
    expect(html).toContain('{% if count > 1 %}You have {{ count }} parcels{% else %}One parcel{% endif %}');
    expect(html).toContain('href="https://shop.example/t/{{ order }}?src=mail&amp;n=1"');
    // The class's rule is inlined into the element's style attribute.
    expect(html).toMatch(/class="lead"[^>]*style="[^"]*color: #b00b1e/);
  });

  it('renders the compiled HTML per send, with a text part read from it', async () => {
    const { compiledEmailHtml } = await checkTemplate(content, {});
    const data = { name: 'Kim & co', count: 3, order: 'Z9' };
    const email = (await render(content, 'email', data, { compiledEmailHtml })).message;
    expect(email.html).toContain('Hello Kim &amp; co');
    expect(email.html).toContain('You have 3 parcels');
    expect(email.html).toContain('href="https://shop.example/t/Z9?src=mail&amp;n=1"');
    expect(email.text).toContain('Hello Kim & co');
    expect(email.text).toContain('You have 3 parcels');
    expect(email.text).toContain('Track [https://shop.example/t/Z9?src=mail&n=1]');
    expect(email.text).not.toMatch(/<|\{\{|\{%/);
    // Without the saved HTML the MJML is compiled on the spot, to the same message.
    expect((await render(content, 'email', data)).message).toEqual(email);
  });

  it('refuses mj-include: a tenant template never reads files', async () => {
    const include = {
      email: { subject: 'x', mjml: '<mjml><mj-body>\n  <mj-include path="/etc/passwd" />\n</mj-body></mjml>' },
    };
    expect((await compileEmail(include)).errors).toEqual([
      expect.objectContaining({
        channel: 'email',
        field: 'mjml',
        line: 2,
        message: expect.stringContaining('mj-include'),
      }),
    ]);
    expect((await checkTemplate(include, {})).problems).toEqual([expect.objectContaining({ field: 'mjml', line: 2 })]);
    expect((await renderError(render(include, 'email'))).message).toContain('mj-include');
  });

  it('keeps Liquid in colour attributes and <mj-raw>, and refuses Liquid MJML would drop or compute with', async () => {
    const section = (attributes: string) =>
      `<mj-section><mj-column ${attributes}><mj-text color="{{ brand }}">Members only</mj-text></mj-column></mj-section>`;
    const kept = await compileEmail({
      email: {
        subject: 's',
        mjml: `<mjml><mj-body><mj-raw>{% if vip %}</mj-raw>${section('')}<mj-raw>{% endif %}</mj-raw></mj-body></mjml>`,
      },
    });
    expect(kept.errors).toEqual([]);
    const rendered = await render({ email: { subject: 's', html: kept.html! } }, 'email', {
      vip: true,
      brand: '#123456',
    });
    expect(rendered.message.html).toMatch(/color:#123456;"\s*>Members only/);
    expect(
      (await render({ email: { subject: 's', html: kept.html! } }, 'email', { vip: false })).message.html,
    ).not.toContain('Members only');

    const dropped = await compileEmail({
      email: { subject: 's', mjml: `<mjml><mj-body>\n{% if vip %}${section('')}{% endif %}</mj-body></mjml>` },
    });
    expect(dropped.errors).toEqual([
      expect.objectContaining({ line: 2, message: expect.stringContaining('MJML drops {% if vip %}') }),
      expect.objectContaining({ line: 2, message: expect.stringContaining('MJML drops {% endif %}') }),
    ]);
    const computed = await compileEmail({
      email: { subject: 's', mjml: `<mjml><mj-body>${section('width="{{ w }}"')}</mj-body></mjml>` },
    });
    expect(computed.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^Attribute width has invalid value/) }),
    ]);
  });

  it('reports invalid MJML with its line', async () => {
    const broken = {
      email: {
        subject: 'x',
        mjml: '<mjml><mj-body>\n<mj-section><mj-colum>x</mj-colum></mj-section></mj-body></mjml>',
      },
    };
    const { problems, compiledEmailHtml } = await checkTemplate(broken, {});
    expect(compiledEmailHtml).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ channel: 'email', field: 'mjml', line: 2 })]);
  });
});

describe('filters', () => {
  it('`t` renders the translation with its args and picks the plural form by count', async () => {
    const content: TemplateContent = {
      sms: { text: '{{ "cart" | t: count: n, name: user.name }}' },
      locales: {
        en: { cart: { one: '{{ name }}, one item waits', other: '{{ name }}, {{ count }} items wait' } },
      },
      default_locale: 'en',
    };
    expect((await render(content, 'sms', { n: 1, user: { name: 'Ed' } })).message.text).toBe('Ed, one item waits');
    expect((await render(content, 'sms', { n: 4, user: { name: 'Ed' } })).message.text).toBe('Ed, 4 items wait');
  });

  it('`t` fails on a key no locale of the chain has, naming it', async () => {
    const content: TemplateContent = { sms: { text: '{{ "nope" | t }}' }, locales: { en: {} }, default_locale: 'en' };
    const error = await renderError(render(content, 'sms', {}, { locale: 'fr' }));
    expect(error.message).toMatch(/^sms text: no translation of 'nope' in fr, en/);
  });

  it('formats dates, numbers and money in the recipient’s locale and time zone', async () => {
    const content: TemplateContent = {
      sms: {
        text: '{{ at | date_local: "long" }}|{{ at | date_local: "none", "short" }}|{{ n | number }}|{{ n | number: 1 }}|{{ price | currency: "EUR" }}',
      },
    };
    const data = { at: '2024-01-15T23:30:00Z', n: 1234567.891, price: 1234.5 };
    const at = (locale: string, timeZone: string) => render(content, 'sms', data, { locale, timeZone });
    const [usDate, usTime, usNumber, usOne, usPrice] = (await at('en-US', 'America/New_York')).message.text.split('|');
    expect([usDate, usTime, usNumber, usOne, usPrice]).toEqual([
      'January 15, 2024',
      '6:30 PM',
      '1,234,567.891',
      '1,234,567.9',
      '€1,234.50',
    ]);
    // In Tokyo it is already the next morning.
    const [jaDate, jaTime] = (await at('ja-JP', 'Asia/Tokyo')).message.text.split('|');
    expect([jaDate, jaTime]).toEqual(['2024年1月16日', '8:30']);
    const [, , inNumber] = (await at('en-IN', 'Asia/Kolkata')).message.text.split('|');
    expect(inNumber).toBe('12,34,567.891');
    const [deDate, , deNumber, , dePrice] = (await at('de-DE', 'Europe/Berlin')).message.text.split('|');
    expect([deDate, deNumber]).toEqual(['16. Januar 2024', '1.234.567,891']);
    expect(dePrice).toMatch(/^1\.234,50\s€$/u);
    // An unknown zone formats in UTC rather than failing the send.
    expect((await at('en-GB', 'Mars/Olympus')).message.text.split('|')[1]).toBe('23:30');
  });

  it('refuses a value a formatting filter cannot read', async () => {
    const error = await renderError(render({ sms: { text: '{{ x | currency: "EUR" }}' } }, 'sms', { x: 'lots' }));
    expect(error.message).toMatch(/^sms text: currency: "lots" is not a number \(line 1, column 1\)$/);
  });
});

describe('undefined variables', () => {
  const content: TemplateContent = {
    sms: { text: 'Hi {{ user.first_name }},\n{{ user.nickname }}!{% if coupon %} {{ coupon }}{% endif %}' },
  };

  it('fail a send with a TemplateRenderError naming the variable, the channel, the field and the place', async () => {
    const error = await renderError(render(content, 'sms', { user: { first_name: 'Al' } }));
    expect(error.message).toBe('sms text: undefined variable: user.nickname (line 2, column 4)');
    expect([error.channel, error.field, error.line, error.column]).toEqual(['sms', 'text', 2, 4]);
  });

  it('render empty in a lenient preview, each one a warning', async () => {
    const outcome = await render(content, 'sms', {}, { lenient: true });
    expect(outcome.message.text).toBe('Hi ,\n!');
    expect(outcome.warnings.map((w) => [w.code, w.message])).toEqual([['missing_variable', "'user' is not defined"]]);
    const partly = await render(content, 'sms', { user: { first_name: 'Al' } }, { lenient: true });
    expect(partly.message.text).toBe('Hi Al,\n!');
    expect(partly.warnings).toEqual([
      { code: 'missing_variable', message: "'user.nickname' is not defined", channel: 'sms', field: 'text' },
    ]);
  });

  it('never read the prototype: constructor and __proto__ are not data', async () => {
    const hostile: TemplateContent = {
      sms: {
        text: '[{{ data.constructor }}][{{ x.__proto__ }}][{{ "s".constructor }}][{{ x.toString }}][{{ x.hasOwnProperty }}][{{ list.constructor.name }}]{% assign c = x.constructor %}[{{ c.constructor }}]',
      },
    };
    const data = { data: { a: 1 }, x: {}, list: [1] };
    const error = await renderError(render(hostile, 'sms', data));
    expect(error.message).toContain('undefined variable: data.constructor');
    const lenient = await render(hostile, 'sms', data, { lenient: true });
    expect(lenient.message.text).toBe('[][][][][][][]');
    for (const text of ['{{ x.__proto__.constructor }}', '{{ x["__proto__"] }}', '{{ x["constructor"]["name"] }}']) {
      await renderError(render({ sms: { text } }, 'sms', data));
      expect((await render({ sms: { text } }, 'sms', data, { lenient: true })).message.text).toBe('');
    }
  });
});

describe('layouts and partials come only from the sources', () => {
  const sources = {
    brand: '<main>{% block content %}{% endblock %}</main>{% render "footer", year: year %}',
    footer: '<footer>© {{ year }} {{ company | default: "Shop" }}</footer>',
  };
  const content: TemplateContent = {
    email: { subject: 'x', html: '{% layout "brand" %}{% block content %}<p>Hi {{ name }}</p>{% endblock %}' },
    sms: { text: 'Hi {% render "missing" %}' },
  };

  it('wraps the body in a layout that renders a partial', async () => {
    const { html } = (await render(content, 'email', { name: '<Lu>', year: 2031 }, { sources })).message;
    expect(html).toBe('<main><p>Hi &lt;Lu&gt;</p></main><footer>© 2031 Shop</footer>');
    expect(templateReferences(content)).toEqual(['brand', 'missing']);
  });

  it('fails on a key the sources lack, naming it; a preview renders it as nothing and warns', async () => {
    const error = await renderError(render(content, 'sms', {}, { sources }));
    expect(error.message).toBe("sms text: unknown partial 'missing' (line 1, column 4)");
    expect(error.unknownPartial).toBe('missing');
    const preview = await previewTemplate(job(content, 'sms', {}, { sources }));
    expect(preview.rendered.text).toBe('Hi ');
    expect(preview.warnings).toEqual([expect.objectContaining({ code: 'unknown_partial', field: 'text' })]);
    const layoutless = await previewTemplate(job(content, 'email', { name: 'Lu' }));
    expect(layoutless.rendered.html).toBe('<p>Hi Lu</p>');
    expect(layoutless.warnings).toEqual([
      expect.objectContaining({ code: 'unknown_partial', message: expect.stringContaining("'brand'") }),
    ]);
  });

  it('finds references by parsing: quoted keys in tags and {% liquid %}, not in comments or raw text', () => {
    const references = templateReferences({
      sms: {
        text: `{% render 'a' %}{% include "b", x: 1 %}{% comment %}{% render 'c' %}{% endcomment %}{% raw %}{% render 'd' %}{% endraw %}`,
      },
      push: { title: '{% liquid\n  render "e"\n  echo 1\n%}', body: '{% layout none %}{% render "a" %}' },
      locales: { en: { k: "{% render 'f' %}" } },
    });
    expect(references).toEqual(['a', 'b', 'e', 'f']);
  });
});

describe('checking a version before it is saved', () => {
  it('reports parse errors with channel, field, line and column, and names partials that cannot be resolved', async () => {
    const { problems } = await checkTemplate(
      {
        sms: { text: 'Hi\n  {% if x %}open' },
        push: { title: '{{ a | no_such_filter }}', body: 'Hi {% render footer %}' },
        webhook: { payload: { nested: ['fine', '{{ broken'] } },
        locales: { en: { hi: 'x {% endif %}' } },
        default_locale: 'en',
      },
      {},
    );
    expect(problems).toEqual([
      { channel: 'sms', field: 'text', line: 2, column: 3, message: 'tag {% if x %} not closed' },
      { channel: 'push', field: 'title', line: 1, column: 1, message: 'undefined filter: no_such_filter' },
      expect.objectContaining({
        channel: 'push',
        field: 'body',
        line: 1,
        column: 4,
        message: expect.stringContaining('quoted key'),
      }),
      expect.objectContaining({ channel: 'webhook', field: 'payload.nested[1]', line: 1, column: 1 }),
      expect.objectContaining({ channel: 'locales', field: 'en.hi', line: 1, column: 3 }),
    ]);
  });

  it('a send of an unparsable field fails naming it', async () => {
    const error = await renderError(render({ sms: { text: 'ok\n\n {{ a | }' } }, 'sms'));
    expect([error.channel, error.field, error.line]).toEqual(['sms', 'text', 3]);
  });

  it('returns the compiled HTML, the references and the missing translations', async () => {
    const check = await checkTemplate(
      {
        email: {
          subject: '{{ "s" | t }}',
          mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>{% render "foot" %}</mj-text></mj-column></mj-section></mj-body></mjml>',
        },
        locales: { en: { s: 'Hi', only_en: 'x' }, de: { s: 'Hallo' } },
        default_locale: 'en',
      },
      {},
    );
    expect(check.problems).toEqual([]);
    expect(check.compiledEmailHtml).toContain('{% render "foot" %}');
    expect(check.references).toEqual(['foot']);
    expect(check.missingTranslations).toEqual({ de: ['only_en'] });
  });

  it('refuses locales that are not tags, plural objects without `other`, and a default the template lacks', async () => {
    const { problems } = await checkTemplate(
      {
        sms: { text: 'x' },
        locales: { 'en US': { a: 'x' }, en: { b: { one: 'x', lots: 'y' } as never } },
        default_locale: 'fr',
      },
      {},
    );
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      "en US: 'en US' is not a BCP 47 locale tag",
      'en.b.lots: is not a plural category (zero, one, two, few, many, other)',
      "en.b: needs an 'other' form: every locale's plural rules fall back to it",
      "default_locale: 'fr' is not one of the template's locales",
    ]);
  });
});

describe('preview warnings', () => {
  it('counts SMS segments and flags text past a channel’s limits', async () => {
    expect(previewWarnings('sms', { text: 'plain and short' })).toEqual([]);
    const emoji = previewWarnings('sms', { text: `Parcel arrived 📦 ${'x'.repeat(80)}` });
    expect(emoji).toEqual([
      expect.objectContaining({ code: 'sms_segments', message: expect.stringMatching(/^sent as 2 UCS-2 segments/) }),
    ]);
    const long = previewWarnings('sms', { text: 'y'.repeat(153 * 11) });
    expect(long.map((w) => w.code)).toEqual(['sms_segments', 'too_long']);
    expect(previewWarnings('push', { subject: 't'.repeat(66), text: 'b'.repeat(241) }).map((w) => w.field)).toEqual([
      'title',
      'body',
    ]);
    expect(previewWarnings('email', { subject: 's'.repeat(79), text: '' })).toEqual([
      expect.objectContaining({ code: 'too_long', field: 'subject' }),
    ]);
    expect(previewWarnings('discord', { text: 'd'.repeat(2001) })).toHaveLength(1);
    expect(previewWarnings('telegram', { text: 'd'.repeat(4096) })).toEqual([]);
  });

  it('a preview never throws for the template’s faults', async () => {
    const broken = await previewTemplate(job({ sms: { text: 'a {% if %}' } }, 'sms'));
    expect(broken.rendered).toEqual({ text: '' });
    expect(broken.problems).toEqual([expect.objectContaining({ channel: 'sms', field: 'text', line: 1 })]);
    const noBody = await previewTemplate(job({ sms: { text: 'a' } }, 'email'));
    expect(noBody.problems).toEqual([expect.objectContaining({ message: 'the template has no email body' })]);
    const fine = await previewTemplate(
      job({ push: { title: 'T', body: '{{ who }} 📦' } }, 'push', {}, { locale: 'de' }),
    );
    expect(fine.problems).toEqual([]);
    expect(fine.rendered).toEqual({ subject: 'T', text: ' 📦' });
    expect(fine.warnings.map((w) => w.code)).toEqual(['missing_variable']);
  });
});
