/** A process that starts a dev server on the port it is given, says "ready", and waits to be killed. */
import { startDevServer } from '../../runtime/dev-server';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';

const port = Number(process.argv[2]);
startDevServer({ executable: ensureTemporalBinary('cli')!, port, namespace: 'default' }).then(
  () => console.log('ready'),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
