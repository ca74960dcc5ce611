import { startHeraldOnFakes, type HeraldOnFakes } from '../support/fake-providers';
import { eventually } from '../support/herald';
import { notificationWorkflowId } from '../../workflows/definitions';

/** High priority has queues and workers of its own: a stuck backlog on the main lane cannot hold it. */
describe('priority lanes', () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    // Two Telegram sends at a time per lane, so two hung sends fill the main lane.
    h = await startHeraldOnFakes({ HERALD_CHANNEL_CONCURRENCY: 'telegram=2' });
  });
  afterAll(() => h?.stop());

  const telegram = (chatId: string, priority: string) =>
    h.notify({ channels: ['telegram'], recipients: [{ telegram_chat_id: chatId }], message: chatId, priority });

  it('delivers a high-priority send while the main lane is stuck behind hung sends', async () => {
    h.fakes.telegram.faults.push({ hang: true }, { hang: true });
    const stuck = [await telegram('1001', 'low'), await telegram('1002', 'low')];
    await h.fakes.telegram.waitFor(() => h.fakes.telegram.requests.length >= 2);
    const waiting = await telegram('1003', 'normal');
    const urgent = await telegram('1004', 'high');

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
