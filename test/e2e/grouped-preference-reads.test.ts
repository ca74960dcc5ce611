import type { DatabaseHandle } from '../../db/connect';
import { changePreferences, readManyPreferences, readPreferencesGrouped } from '../../db/preferences';
import { GroupCommit } from '../../domain/group-commit';
import { createTenant, isolatedDatabase, type TestTenant } from '../support/herald';

/** Concurrent accepts read their recipients' preferences in one query: each gets its own tenant's, and only those. */
describe('preferences read for many requests at once', () => {
  let handle: DatabaseHandle;
  let acme: TestTenant;
  let globex: TestTenant;
  beforeAll(async () => {
    handle = await isolatedDatabase();
    [acme, globex] = [await createTenant(handle), await createTenant(handle)];
    await changePreferences(handle.db, acme.id, 'ada', () => ({ channels: { sms: false } }));
    await changePreferences(handle.db, acme.id, 'bob', () => ({ categories: { marketing: { enabled: false } } }));
    // The same recipient id in another tenant is another person.
    await changePreferences(handle.db, globex.id, 'ada', () => ({ channels: { email: false } }));
  });
  afterAll(() => handle?.close());

  it("gives each request its own tenant's recipients, as one request's read would", async () => {
    const reads = [
      { tenantId: acme.id, recipientIds: ['ada', 'bob', 'nobody'] },
      { tenantId: globex.id, recipientIds: ['ada', 'bob'] },
      { tenantId: acme.id, recipientIds: [] },
      { tenantId: globex.id, recipientIds: ['carol'] },
    ];
    const grouped = await readPreferencesGrouped(handle.db, reads);
    const alone = await Promise.all(reads.map((r) => readManyPreferences(handle.db, r.tenantId, [...r.recipientIds])));
    expect(grouped).toEqual(alone);
    expect([...grouped[0]!.keys()].sort()).toEqual(['ada', 'bob']);
    expect(grouped[0]!.get('ada')).toEqual({ channels: { sms: false } });
    expect(grouped[1]!.get('ada')).toEqual({ channels: { email: false } });
    expect(grouped[1]!.has('bob')).toBe(false);
    expect(await readPreferencesGrouped(handle.db, [])).toEqual([]);
  });

  it('shares one query among requests that arrive together', async () => {
    let queries = 0;
    const group = new GroupCommit((reads: { tenantId: string; recipientIds: string[] }[]) => {
      queries++;
      return readPreferencesGrouped(handle.db, reads);
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => group.add({ tenantId: i % 2 ? acme.id : globex.id, recipientIds: ['ada'] })),
    );
    expect(queries).toBe(1);
    answers.forEach((a, i) =>
      expect(a.get('ada')).toEqual(i % 2 ? { channels: { sms: false } } : { channels: { email: false } }),
    );
  });
});
