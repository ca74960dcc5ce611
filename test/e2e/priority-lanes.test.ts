import { PROVIDER_TIMEOUT_MS } from '../../activities/providers/http';
import { startHeraldOnFakes, type HeraldOnFakes } from '../support/fake-providers';
import { eventually } from '../support/herald';
import { notificationWorkflowId } from '../../workflows/definitions';

/** A Telegram notification to the chat, its id the message. */
const telegram = (h: HeraldOnFakes, chatId: string, priority: string) =>
  h.notify({ channels: ['telegram'], recipients: [{ telegram_chat_id: chatId }], message: chatId, priority });

/** High priority has queues and workers of its own: a stuck backlog on the main lane cannot hold it. */
describe('priority lanes', () => {
  let h: HeraldOnFakes;
  // Herald's start takes a minute or more on a loaded machine (the workflows are bundled for its worker).
  beforeAll(async () => {
    // Two Telegram sends at a time per lane, so two hung sends fill the main lane.
    h = await startHeraldOnFakes({ HERALD_CHANNEL_CONCURRENCY: 'telegram=2' });
  }, 180_000);
  afterAll(() => h?.stop());

  it('delivers a high-priority send while the main lane is stuck behind hung sends', async () => {
    h.fakes.telegram.faults.push({ hang: true }, { hang: true });
    const stuck = [await telegram(h, '1001', 'low'), await telegram(h, '1002', 'low')];
    await h.fakes.telegram.waitFor(() => h.fakes.telegram.requests.length >= 2);
    const waiting = await telegram(h, '1003', 'normal');
    const urgent = await telegram(h, '1004', 'high');

    // Before the provider's timeout ends the hung sends and frees the main lane.
    const s = await eventually(
      () => h.status(urgent),
      (x) => x.status === 'delivered',
      PROVIDER_TIMEOUT_MS,
    );
    expect(s.deliveries).toEqual([expect.objectContaining({ channel: 'telegram', status: 'delivered' })]);
    expect((await h.status(waiting)).status).toBe('sending');
    for (const id of stuck) expect((await h.status(id)).status).toBe('sending');

    const describe = (id: string) =>
      h.herald.temporal.workflow.getHandle(notificationWorkflowId(h.tenant.id, id)).describe();
    expect((await describe(urgent)).taskQueue).toBe(`${h.herald.config.taskQueue}-high`);
    expect((await describe(waiting)).taskQueue).toBe(h.herald.config.taskQueue);
  });
});

/** The fake Telegram API's first request for the chat, once it came. */
const heard = async (h: HeraldOnFakes, chatId: string) => {
  const sent = () =>
    h.fakes.telegram.requests.find((r) => String((r.json as { chat_id?: unknown })?.chat_id) === chatId);
  await h.fakes.telegram.waitFor(() => sent() !== undefined);
  return sent()!;
};
const heardAt = async (h: HeraldOnFakes, chatId: string) => (await heard(h, chatId)).at;

/**
 * Normal and low priority give way in a worker while high-priority work is under way there, for a bounded
 * time: holding spends a budget of HERALD_HIGH_PRIORITY_YIELD_SECONDS refilled at half a second per second,
 * so high-priority work that never ends holds the rest for twice the budget from its accept. Each test has a
 * Herald of its own, so its budget is full when it begins.
 */
describe('high priority under way, done in time', () => {
  const budgetMs = 10_000;
  let h: HeraldOnFakes;
  beforeAll(async () => {
    h = await startHeraldOnFakes({ HERALD_HIGH_PRIORITY_YIELD_SECONDS: String(budgetMs / 1000) });
  }, 180_000);
  afterAll(() => h?.stop());

  it('starts no normal-priority work until the high-priority send under way is done', async () => {
    h.fakes.telegram.faults.push({ delayMs: 1500 });
    const began = performance.now();
    const urgent = await telegram(h, '2001', 'high');
    const urgentAt = await heardAt(h, '2001');
    const normal = await telegram(h, '2002', 'normal');
    const normalAt = await heardAt(h, '2002');
    // It waits for the urgent send's 1.5 s, then goes ahead before the budget would let it: twice the
    // budget after the urgent accept, which came after `began`.
    expect(normalAt - urgentAt).toBeGreaterThanOrEqual(1500);
    expect(normalAt - began).toBeLessThan(2 * budgetMs);
    for (const id of [urgent, normal]) expect((await h.settled(id)).status).toBe('delivered');
  });
});

describe('high priority under way, never done', () => {
  const budgetMs = 1500;
  let h: HeraldOnFakes;
  beforeAll(async () => {
    h = await startHeraldOnFakes({ HERALD_HIGH_PRIORITY_YIELD_SECONDS: String(budgetMs / 1000) });
  }, 180_000);
  afterAll(() => h?.stop());

  it('holds normal priority back only until the budget runs out, though the high-priority send hangs', async () => {
    // The normal lane's worker loads its workflow code with its first task, seconds on a loaded machine:
    // the measured send finds it warm.
    await telegram(h, '2010', 'normal');
    await heard(h, '2010');
    h.fakes.telegram.faults.push({ hang: true });
    const began = performance.now();
    await telegram(h, '2003', 'high');
    const hung = await heard(h, '2003');
    const normal = await telegram(h, '2004', 'normal');
    const normalAt = await heardAt(h, '2004');
    // Held for twice the budget from the urgent accept, which came after `began`; then let go while the
    // hung send is still under way: its connection still open, before the provider's timeout ends it.
    expect(normalAt - began).toBeGreaterThanOrEqual(2 * budgetMs);
    expect(normalAt).toBeLessThan(hung.closedAt ?? Infinity);
    expect((await h.settled(normal)).status).toBe('delivered');
  });
});
