/** `npm run worker`: workflows and activities alone, against TEMPORAL_ADDRESS and DATABASE_URL. Scale out freely. */
import { serveMetrics } from '../observability/metrics-server';
import { stopOnSignals } from '../runtime/shutdown';
import { run, startProductionRole, stopDeadlineMs } from './boot';

run('herald-worker', async () => {
  const { config, herald, temporalAddress, shutdown } = await startProductionRole('worker');
  const metrics = config.workerMetricsAddress ? await serveMetrics(config.workerMetricsAddress) : undefined;
  if (metrics)
    shutdown.add('the metrics endpoint', () => {
      metrics.close();
      metrics.closeAllConnections();
    });
  console.log(`[herald-worker] polling task queue "${config.taskQueue}" on ${temporalAddress}`);
  stopOnSignals('herald-worker', shutdown, stopDeadlineMs(config));
  await herald.worker!.done;
});
