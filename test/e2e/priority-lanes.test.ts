import { startHeraldOnFakes, type HeraldOnFakes } from '../support/fake-providers';
import { eventually } from '../support/herald';
import { notificationWorkflowId } from '../../workflows/definitions';

/** A Telegram notification to the chat, its id the message. */
const telegram = (h: HeraldOnFakes, chatId: string, priority: string) =>
  h.notify({ channels: ['telegram'], recipients: [{ telegram_chat_id: chatId }], message: chatId, priority });

/** High priority has queues and workers of its own: a stuck backlog on the main lane cannot hold it. */
describe('priority lanes', () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    // Two Telegram sends at a time per lane, so two hung sends fill the main lane.
    h = await startHeraldOnFakes({ HERALD_CHANNEL_CONCURRENCY: 'telegram=2' });
  });
  afterAll(() => h?.stop());

  it('delivers a high-priority send while the main lane is stuck behind hung sends', async () => {
    h.fakes.telegram.faults.push({ hang: true }, { hang: true });
    const stuck = [await telegram(h, '1001', 'low'), await telegram(h, '1002', 'low')];
    await h.fakes.telegram.waitFor(() => h.fakes.telegram.requests.length >= 2);
    const waiting = await telegram(h, '1003', 'normal');
    const urgent = await telegram(h, '1004', 'high');

    // Well inside the 30 s the hung sends take to time out and free the main lane.
    const s = await eventually(
      () => h.status(urgent),
      (x) => x.status === 'delivered',
      10_000,
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

/** Normal and low priority give way in a worker while high-priority work is under way there, for a bounded time. */
describe('high priority under way', () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    h = await startHeraldOnFakes({ HERALD_HIGH_PRIORITY_YIELD_SECONDS: '4' });
  });
  afterAll(() => h?.stop());

  /** When the fake Telegram API first heard of the chat. */
  const heardAt = async (chatId: string) => {
    const sent = () =>
      h.fakes.telegram.requests.find((r) => String((r.json as { chat_id?: unknown })?.chat_id) === chatId);
    await h.fakes.telegram.waitFor(() => sent() !== undefined);
    return sent()!.at;
  };

  it('starts no normal-priority work until the high-priority send under way is done', async () => {
    h.fakes.telegram.faults.push({ delayMs: 1500 });
    const urgent = await telegram(h, '2001', 'high');
    const urgentAt = await heardAt('2001');
    const normal = await telegram(h, '2002', 'normal');
    // It waits for the urgent send's 1.5 s, then goes ahead well before the budget of 4 s would let it
    // (after 8 s of holding, since it refills at half the rate it is spent).
    const waited = (await heardAt('2002')) - urgentAt;
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(waited).toBeLessThan(5000);
    for (const id of [urgent, normal]) expect((await h.settled(id)).status).toBe('delivered');
  });

  it('holds normal priority back only until the budget runs out, though the high-priority send hangs', async () => {
    h.fakes.telegram.faults.push({ hang: true });
    await telegram(h, '2003', 'high');
    const urgentAt = await heardAt('2003');
    const normal = await telegram(h, '2004', 'normal');
    // Held (what is left of the budget after the test above lasts over 2 s), then let go long before the
    // hung send's 30 s timeout ends it.
    const waited = (await heardAt('2004')) - urgentAt;
    expect(waited).toBeGreaterThanOrEqual(2000);
    expect(waited).toBeLessThan(20_000);
    expect((await h.settled(normal)).status).toBe('delivered');
  });
});
