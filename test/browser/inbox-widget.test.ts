import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { newApiKey, upsertTenant } from '../../api/tenants';
import { startHerald } from '../../main/herald';
import { Shutdown } from '../../runtime/shutdown';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { testTracing } from '../support/tracing';
import { appPage, buildWidget, launchChromium, widgetContext } from '../support/widget-browser';

const root = path.resolve(__dirname, '../..');

/** The `<herald-inbox>` widget in Chromium, against a real Herald: live, across tabs, by keyboard, accessible. */
describe('the inbox widget in a browser', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let widget: Buffer;

  beforeAll(async () => {
    widget = buildWidget();
    // A database of its own: the demo page shows the `dev` tenant, which this file makes.
    [herald, browser] = await Promise.all([startTestHerald({}, { isolated: true }), launchChromium()]);
    base = await herald.api.listen({ port: 0, host: '127.0.0.1' });
    tenant = await herald.createTenant();
    // The worker's first workflow loads its code: measured times start from a warm one.
    await send('warm-up', 'warm-up');
    await stored('warm-up', 1);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  });

  beforeEach(async () => {
    context = await widgetContext(browser, widget);
  });
  afterEach(() => context?.close());

  let recipients = 0;
  /** A recipient no other test writes to. */
  const newRecipient = () => `reader-${++recipients}-${Date.now()}`;

  async function send(recipient: string, message: object | string, auth = tenant.auth) {
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: auth,
      payload: { channels: ['in_app'], recipients: [{ id: recipient }], message },
    });
    expect(res.statusCode).toBe(202);
  }

  async function stored(recipient: string, count: number, auth = tenant.auth) {
    await eventually(
      async () =>
        (await herald.api.inject({ url: `/recipients/${recipient}/inbox?view=all`, headers: auth })).json().messages
          .length,
      (n) => n === count,
    );
  }

  /** A tab with the widget for `recipient`, its stream open, on a page at the origin of the API it uses. */
  async function openTab(
    recipient: string,
    { origin = base, attributes = '', auth = tenant.auth } = {},
  ): Promise<Page> {
    const token = (
      await herald.api.inject({ method: 'POST', url: `/recipients/${recipient}/tokens`, headers: auth })
    ).json().token as string;
    const page = await context.newPage();
    const url = `${origin}/app/${recipient}`;
    await page.route(url, (route) =>
      route.fulfill({ contentType: 'text/html', body: appPage(recipient, token, attributes) }),
    );
    await page.goto(url);
    await live(page);
    return page;
  }

  const live = (page: Page) =>
    page.waitForFunction("document.querySelector('herald-inbox')?.client?.state.live === true");
  const inbox = (page: Page) => page.locator('herald-inbox');
  const bell = (page: Page) => inbox(page).getByRole('button', { name: 'Notifications' });
  const badge = (page: Page) => inbox(page).getByRole('status');
  const articles = (page: Page) => inbox(page).getByRole('article');
  const isFocused = (locator: Locator) => locator.evaluate((el) => el === el.getRootNode().activeElement);
  /** The titles of the messages shown, as a screen reader reads them. */
  const texts = async (page: Page) =>
    (await articles(page).locator('h3').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
  const badgeSays = (page: Page, label: string) =>
    page.waitForFunction(
      `document.querySelector('herald-inbox')?.shadowRoot?.getElementById('badge')?.ariaLabel === ${JSON.stringify(label)}`,
    );

  it('shows a notification within a second of its accept', async () => {
    const recipient = newRecipient();
    const page = await openTab(recipient);
    await bell(page).click();
    await inbox(page).getByText('Nothing here yet').waitFor();
    await send(recipient, { subject: 'Your order shipped', text: 'It arrives on Tuesday.' });
    await articles(page).getByText('Your order shipped').waitFor({ timeout: 1000 });
    await badgeSays(page, '1 unread');
  });

  it('keeps the badge of two tabs in agreement after "mark all as read" in one', async () => {
    const recipient = newRecipient();
    for (const text of ['one', 'two', 'three']) await send(recipient, text);
    await stored(recipient, 3);
    const [first, second] = [await openTab(recipient), await openTab(recipient)];
    for (const page of [first, second]) await badgeSays(page, '3 unread');
    await bell(first).click();
    await inbox(first).getByRole('button', { name: 'Mark all as read' }).click();
    for (const page of [first, second]) await badgeSays(page, 'No unread notifications');
    expect(await badge(second).innerText()).toBe('');
  });

  it('is used by keyboard alone: opens, moves between messages, reads one, closes', async () => {
    const recipient = newRecipient();
    for (const text of ['older', 'newer']) {
      await send(recipient, text);
      await stored(recipient, text === 'older' ? 1 : 2);
    }
    const page = await openTab(recipient);
    await badgeSays(page, '2 unread');
    await page.keyboard.press('Tab');
    expect(await isFocused(bell(page))).toBe(true);
    await page.keyboard.press('Enter');
    expect(await bell(page).getAttribute('aria-expanded')).toBe('true');
    await articles(page).nth(1).waitFor();
    expect(await texts(page)).toEqual(['Unread: newer', 'Unread: older']);
    expect(await isFocused(articles(page).first())).toBe(true);
    await page.keyboard.press('ArrowDown');
    expect(await isFocused(articles(page).nth(1))).toBe(true);
    await page.keyboard.press('Enter');
    await badgeSays(page, '1 unread');
    expect(await texts(page)).toEqual(['Unread: newer', 'older']);
    const messages = (await herald.api.inject({ url: `/recipients/${recipient}/inbox`, headers: tenant.auth })).json()
      .messages as { text: string; read_at: string | null }[];
    expect(messages.map((m) => [m.text, m.read_at !== null])).toEqual([
      ['newer', false],
      ['older', true],
    ]);
    await page.keyboard.press('Escape');
    expect(await bell(page).getAttribute('aria-expanded')).toBe('false');
    expect(await isFocused(bell(page))).toBe(true);
  });

  it('pages on as the end of the list comes into view, each message once', async () => {
    const recipient = newRecipient();
    const sent = Array.from({ length: 7 }, (_, i) => `message ${i + 1}`);
    for (const [i, text] of sent.entries()) {
      await send(recipient, text);
      await stored(recipient, i + 1);
    }
    const page = await openTab(recipient, { attributes: 'page-size="3"' });
    await bell(page).click();
    await articles(page).first().waitFor();
    for (let shown = 0; shown < 7; shown = await articles(page).count())
      await articles(page).last().scrollIntoViewIfNeeded();
    expect(await texts(page)).toEqual(sent.reverse().map((t) => `Unread: ${t}`));
  });

  it("speaks the app's language: every string through `strings`", async () => {
    const recipient = newRecipient();
    await send(recipient, 'Bonjour');
    await stored(recipient, 1);
    const page = await openTab(recipient);
    await page.evaluate(`Object.assign(document.querySelector('herald-inbox'), {
      locale: 'fr',
      strings: { bell: 'Avis', title: 'Avis', unreadBadge: '{count} non lu', unread: 'Non lu :', markAllRead: 'Tout marquer comme lu' },
    })`);
    await badgeSays(page, '1 non lu');
    await inbox(page).getByRole('button', { name: 'Avis' }).click();
    await inbox(page).getByRole('button', { name: 'Tout marquer comme lu' }).waitFor();
    expect(await texts(page)).toEqual(['Non lu : Bonjour']);
    expect(await articles(page).locator('time').innerText()).toMatch(/maintenant|il y a/);
  });

  it("shows the tenant's feeds as tabs, each with its own messages, live", async () => {
    const { auth } = await herald.createTenant();
    const feeds = [{ name: 'everything' }, { name: 'money', categories: ['billing'] }];
    expect(
      (await herald.api.inject({ method: 'PUT', url: '/settings/inbox', headers: auth, payload: { feeds } }))
        .statusCode,
    ).toBe(200);
    const recipient = newRecipient();
    const sendIn = (category: string, text: string) =>
      herald.api.inject({
        method: 'POST',
        url: '/notify',
        headers: auth,
        payload: { channels: ['in_app'], recipients: [{ id: recipient }], message: text, category },
      });
    await sendIn('billing', 'Invoice paid');
    await sendIn('social', 'New follower');
    await stored(recipient, 2, auth);
    const page = await openTab(recipient, { auth });
    await page.evaluate(`document.querySelector('herald-inbox').strings = { 'feed:money': 'Billing' }`);
    await bell(page).click();
    const tab = (name: string) => inbox(page).getByRole('tab', { name });
    await articles(page).nth(1).waitFor();
    expect(await tab('everything').getAttribute('aria-selected')).toBe('true');
    await tab('everything').focus();
    await page.keyboard.press('ArrowRight');
    expect(await tab('Billing').getAttribute('aria-selected')).toBe('true');
    expect(await isFocused(tab('Billing'))).toBe(true);
    await page.waitForFunction(
      "document.querySelector('herald-inbox').shadowRoot.querySelectorAll('article').length === 1",
    );
    expect(await texts(page)).toEqual(['Unread: Invoice paid']);
    await sendIn('social', 'Another follower');
    await sendIn('billing', 'Refund issued');
    await articles(page).getByText('Refund issued').waitFor();
    expect(await texts(page)).toEqual(['Unread: Refund issued', 'Unread: Invoice paid']);
    await badgeSays(page, '4 unread');
  });

  it('has no accessibility violations with its panel open', async () => {
    const recipient = newRecipient();
    await send(recipient, {
      subject: 'Invoice ready',
      text: 'Your March invoice is ready.',
      actions: [{ label: 'View invoice', url: 'https://example.com/invoices/3' }],
    });
    await send(recipient, 'A plain message');
    await stored(recipient, 2);
    const page = await openTab(recipient);
    await bell(page).click();
    await articles(page).nth(1).waitFor();
    const { violations } = await new AxeBuilder({ page }).include('herald-inbox').analyze();
    expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  });

  it('reconnects after the API restarts and shows what arrived meanwhile, each once', async () => {
    /** Another API process on the same database and Temporal, as a deployment runs them. */
    async function startApi() {
      const shutdown = new Shutdown();
      const { api } = await startHerald({
        config: herald.config,
        temporalAddress: herald.temporalAddress,
        db: herald.db,
        listen: herald.database.listen,
        api: true,
        worker: false,
        devOutbox: false,
        tracing: testTracing(),
        shutdown,
      });
      return { api: api!, stop: () => shutdown.run() };
    }
    const recipient = newRecipient();
    const first = await startApi();
    let second: Awaited<ReturnType<typeof startApi>> | undefined;
    try {
      const origin = await first.api.listen({ port: 0, host: '127.0.0.1' });
      const page = await openTab(recipient, { origin });
      await bell(page).click();
      await send(recipient, 'before the restart');
      await articles(page).first().waitFor();

      await first.stop();
      second = await startApi();
      // Sent while the widget has no API to reach: it hears of them once one is back.
      for (const [i, text] of ['while away 1', 'while away 2'].entries()) {
        await send(recipient, text);
        await stored(recipient, 2 + i);
      }
      await second.api.listen({ port: Number(new URL(origin).port), host: '127.0.0.1' });
      await badgeSays(page, '3 unread');
      await articles(page).nth(2).waitFor();
      expect(await texts(page)).toEqual(
        ['while away 2', 'while away 1', 'before the restart'].map((t) => `Unread: ${t}`),
      );
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it('runs live on the demo page, which issues its own token, and is pictured for the docs', async () => {
    const key = newApiKey().key;
    await upsertTenant(herald.db, 'dev', 'Development tenant', key);
    const dev = { authorization: `Bearer ${key}` };
    const page = await context.newPage();
    await page.goto(`${base}/demo/inbox`);
    await live(page);
    const messages = [
      { subject: 'Welcome to Herald', text: 'Your workspace is ready.' },
      {
        subject: 'Invoice #1042 is ready',
        text: 'March: 3 seats, paid by card ending 4242.',
        actions: [{ label: 'View invoice', url: 'https://example.com/invoices/1042' }],
      },
      { subject: 'Grace mentioned you', text: '"Can you review the release notes?"' },
    ];
    for (const [i, message] of messages.entries()) {
      await send('ada', message, dev);
      await stored('ada', i + 1, dev);
    }
    await badgeSays(page, '3 unread');
    await bell(page).click();
    await articles(page).nth(2).waitFor();
    await articles(page).nth(2).click();
    await badgeSays(page, '2 unread');
    // The docs' picture is taken every run and written only when asked: a run leaves the checkout as it was.
    await page.addStyleTag({ content: 'main { visibility: hidden }' });
    const picture = await page.screenshot({ clip: { x: 500, y: 0, width: 500, height: 460 } });
    expect(picture.length).toBeGreaterThan(10_000);
    if (process.env.UPDATE_DOCS_IMAGES) {
      mkdirSync(path.join(root, 'docs/images'), { recursive: true });
      writeFileSync(path.join(root, 'docs/images/inbox-widget.png'), picture);
    }
  });
});
