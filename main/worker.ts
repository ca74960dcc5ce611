/** `npm run worker`: workflows and activities alone, against TEMPORAL_ADDRESS and DATABASE_URL. Scale out freely. */
import { stopOnSignals } from '../runtime/shutdown';
import { run, startProductionRole, stopDeadlineMs } from './boot';

run('herald-worker', async () => {
  const { config, herald, temporalAddress, shutdown } = await startProductionRole('worker');
  console.log(`[herald-worker] polling task queue "${config.taskQueue}" on ${temporalAddress}`);
  stopOnSignals('herald-worker', shutdown, stopDeadlineMs(config));
  await herald.worker!.done;
});
