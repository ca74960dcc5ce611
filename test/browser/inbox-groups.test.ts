import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { appPage, buildWidget, launchChromium, widgetContext } from '../support/widget-browser';

/** Groups in the `<herald-inbox>` widget: one entry per group, opened by its "+N more" control. */
describe('inbox groups in the widget', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let widget: Buffer;

  beforeAll(async () => {
    widget = buildWidget();
    [herald, browser] = await Promise.all([startTestHerald({}, { isolated: true }), launchChromium()]);
    base = await herald.api.listen({ port: 0, host: '127.0.0.1' });
    tenant = await herald.createTenant();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  });

  beforeEach(async () => {
    context = await widgetContext(browser, widget);
  });
  afterEach(() => context?.close());

  const inboxOf = async (recipient: string) =>
    (await herald.api.inject({ url: `/recipients/${recipient}/inbox?view=all`, headers: tenant.auth })).json()
      .messages as { text: string }[];

  /** Sends one message and waits until it is stored, so the inbox holds them in the order sent. */
  async function send(recipient: string, text: string, group?: string) {
    const before = (await inboxOf(recipient)).length;
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: tenant.auth,
      payload: { channels: ['in_app'], recipients: [{ id: recipient }], message: text, group_key: group },
    });
    expect(res.statusCode).toBe(202);
    await eventually(
      () => inboxOf(recipient),
      (messages) => messages.length === before + 1,
    );
  }

  async function openTab(recipient: string): Promise<Page> {
    const token = (
      await herald.api.inject({ method: 'POST', url: `/recipients/${recipient}/tokens`, headers: tenant.auth })
    ).json().token as string;
    const page = await context.newPage();
    const url = `${base}/app/${recipient}`;
    await page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: appPage(recipient, token) }));
    await page.goto(url);
    await page.waitForFunction("document.querySelector('herald-inbox')?.client?.state.live === true");
    return page;
  }

  const inbox = (page: Page) => page.locator('herald-inbox');
  /** The list's entries: a group's opened messages sit inside its entry. */
  const entries = (page: Page) => inbox(page).locator('[role=feed] > article');
  const titles = async (page: Page) =>
    (await entries(page).locator(':scope > div > h3').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());

  it('shows a group as its newest message with a count, opens it by keyboard, and stays accessible', async () => {
    const recipient = `grouped-${Date.now()}`;
    await send(recipient, 'Ada commented', 'post-1');
    await send(recipient, 'Your invoice is ready');
    await send(recipient, 'Grace commented', 'post-1');
    await send(recipient, 'Linus commented', 'post-1');
    const page = await openTab(recipient);
    await inbox(page).getByRole('button', { name: 'Notifications' }).click();
    await entries(page).nth(1).waitFor();
    expect(await titles(page)).toEqual(['Unread: Linus commented', 'Unread: Your invoice is ready']);
    // The badge counts messages, not entries.
    expect(await inbox(page).getByRole('status').getAttribute('aria-label')).toBe('4 unread');

    const toggle = inbox(page).getByRole('button', { name: 'Show 2 more like this' });
    expect(await toggle.innerText()).toBe('+2 more');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.focus();
    await page.keyboard.press('Enter');
    const group = inbox(page).getByRole('group', { name: '3 notifications in this group' });
    await group.getByRole('article').nth(1).waitFor();
    expect((await group.locator('h3').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
      'Unread: Grace commented',
      'Unread: Ada commented',
    ]);
    const less = inbox(page).getByRole('button', { name: 'Show less' });
    expect(await less.getAttribute('aria-expanded')).toBe('true');
    expect(await entries(page).count()).toBe(2);

    const { violations } = await new AxeBuilder({ page }).include('herald-inbox').analyze();
    expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

    // A new message of the group moves it to the top with its count.
    await send(recipient, 'Edsger commented', 'post-1');
    await inbox(page).getByRole('button', { name: 'Show less' }).click();
    await inbox(page).getByRole('button', { name: 'Show 3 more like this' }).waitFor();
    expect(await titles(page)).toEqual(['Unread: Edsger commented', 'Unread: Your invoice is ready']);
  });
});
