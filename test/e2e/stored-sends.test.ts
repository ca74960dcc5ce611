import { eq } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/connect';
import { devOutbox, inboxMessages } from '../../db/schema';
import { DevOutboxProvider } from '../../activities/providers/dev-outbox';
import { InboxProvider } from '../../activities/providers/inbox';
import type { OutboundMessage } from '../../activities/providers/provider';
import { createTenant, isolatedDatabase, type TestTenant } from '../support/herald';

/** Sends stored in Herald's own tables: many at once share an insert, and each gets its own row's id. */
describe('sends stored in the database', () => {
  let handle: DatabaseHandle;
  let acme: TestTenant;
  beforeAll(async () => {
    handle = await isolatedDatabase();
    acme = await createTenant(handle);
  });
  afterAll(() => handle?.close());

  const message = (deliveryKey: string, text: string): OutboundMessage => ({
    tenantId: acme.id,
    notificationId: deliveryKey.split('.')[0]!,
    recipientId: 'ada',
    channel: 'sms',
    deliveryKey,
    to: '+14155550100',
    text,
  });

  it.each([
    ['dev outbox', (h: DatabaseHandle) => new DevOutboxProvider(h.db), devOutbox],
    ['inbox', (h: DatabaseHandle) => new InboxProvider(h.db), inboxMessages],
  ] as const)('%s: each send its row, a retried send its first row again', async (name, make, table) => {
    const provider = make(handle);
    const keys = Array.from({ length: 20 }, (_, i) => `${name.replace(' ', '-')}-n${i}.ada.sms`);
    const sent = await Promise.all(keys.map((key) => provider.send(message(key, `for ${key}`))));
    const rows = await handle.db.select({ id: table.id, key: table.deliveryKey, text: table.text }).from(table);
    const ours = rows.filter((r) => keys.includes(r.key));
    expect(ours).toHaveLength(20);
    const prefix = sent[0]!.providerMessageId.replace(/\d+$/, '');
    keys.forEach((key, i) => {
      const row = ours.find((r) => r.key === key)!;
      expect(sent[i]).toEqual({ providerMessageId: `${prefix}${row.id}`, status: 'delivered' });
      expect(row.text).toBe(`for ${key}`);
    });
    // A retry racing its first try: the same key twice in one group.
    expect(await Promise.all([provider.send(message(keys[3]!, 'a')), provider.send(message(keys[3]!, 'b'))])).toEqual([
      sent[3],
      sent[3],
    ]);
    const again = await provider.send(message(keys[7]!, 'retried'));
    expect(again).toEqual(sent[7]);
    const [kept] = await handle.db.select({ text: table.text }).from(table).where(eq(table.deliveryKey, keys[7]!));
    expect(kept!.text).toBe(`for ${keys[7]}`);
  });
});
