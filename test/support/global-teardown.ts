import type { DevServer } from '../../runtime/dev-server';
import { removeSharedSetup } from './shared-setup';

export default async function globalTeardown() {
  await (globalThis as { heraldDevServer?: DevServer }).heraldDevServer?.stop();
  removeSharedSetup();
}
