import { NativeConnection } from '@temporalio/worker';
import { openDatabase } from '../../db/connect';
import { registerSearchAttributes } from '../../worker/search-attributes';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { makeSharedSetup } from './shared-setup';
import { startSharedDevServer } from './temporal';

export default async function globalSetup() {
  ensureTemporalBinary('test-server', (line) => console.log(line));
  const server = await startSharedDevServer();
  (globalThis as { heraldDevServer?: unknown }).heraldDevServer = server;
  process.env.HERALD_TEST_TEMPORAL_ADDRESS = server.address;

  const connection = await NativeConnection.connect({ address: server.address });
  await registerSearchAttributes(connection, 'default');
  await connection.close();

  // Migrate PostgreSQL once up front, so test files never race to create the schema.
  if (process.env.DATABASE_URL) await (await openDatabase({ url: process.env.DATABASE_URL })).close();
  await makeSharedSetup();
}
