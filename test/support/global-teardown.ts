import type { DevServer } from '../../runtime/dev-server';

export default async function globalTeardown() {
  await (globalThis as { heraldDevServer?: DevServer }).heraldDevServer?.stop();
}
