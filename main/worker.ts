/** `npm run worker`: workflows and activities alone, against TEMPORAL_ADDRESS and DATABASE_URL. Scale out freely. */
import { serveMetrics } from '../observability/metrics-server';
import { run, startProductionRole, stopOnSignals } from './boot';

run('herald-worker', async () => {
  const { config, herald, temporalAddress, stop } = await startProductionRole('worker');
  const metrics = config.workerMetricsAddress ? await serveMetrics(config.workerMetricsAddress) : undefined;
  console.log(`[herald-worker] polling task queue "${config.taskQueue}" on ${temporalAddress}`);
  stopOnSignals(async () => {
    metrics?.close();
    await stop();
  });
  await herald.worker!.done;
});
