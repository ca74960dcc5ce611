import net from 'node:net';
import { startDevServer } from '../../runtime/dev-server';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { freePort } from '../support/temporal';

describe('the Temporal dev server Herald starts', () => {
  it('that cannot start is reported with its own reason', async () => {
    const port = await freePort();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      await expect(
        startDevServer({ executable: ensureTemporalBinary('cli')!, port, namespace: 'default' }),
      ).rejects.toThrow(/exited \(1\): .*address already in use/);
    } finally {
      taken.close();
    }
  });
});
