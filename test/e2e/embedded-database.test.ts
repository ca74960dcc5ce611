import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { upsertTenant } from '../../api/tenants';
import { openDatabase } from '../../db/connect';
import { tenants } from '../../db/schema';

describe('the embedded database in a data folder', () => {
  let dataDir: string;
  beforeAll(() => (dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-embedded-db-'))));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is created with its schema on first open, and keeps what was written when opened again', async () => {
    const first = await openDatabase({ dataDir });
    expect(first.kind).toBe('pglite');
    await upsertTenant(first.db, 'kept', 'Kept across restarts', 'hk_embedded_key');
    await first.close();

    const again = await openDatabase({ dataDir });
    expect((await again.db.select({ id: tenants.id }).from(tenants)).map((t) => t.id)).toEqual(['kept']);
    await again.close();
  });
});
