/** `npm run worker`: workflows and activities alone, against TEMPORAL_ADDRESS and DATABASE_URL. Scale out freely. */
import path from 'node:path';
import { stopOnSignals } from '../runtime/shutdown';
import { run, startProductionRole, stopDeadlineMs } from './boot';

run('herald-worker', async () => {
  const { config, herald, temporalAddress, shutdown } = await startProductionRole('worker');
  const bundle = herald.workflowsFrom;
  console.log(
    `[herald-worker] polling task queue "${config.taskQueue}" on ${temporalAddress}, ` +
      (bundle ? `workflows from ${path.relative(process.cwd(), bundle)}` : 'workflows bundled at start'),
  );
  stopOnSignals('herald-worker', shutdown, stopDeadlineMs(config));
  await herald.worker!.done;
});
