/** `npm run api`: the HTTP API alone, against TEMPORAL_ADDRESS and DATABASE_URL. Run as many as you like. */
import { stopOnSignals } from '../runtime/shutdown';
import { run, startProductionRole, stopDeadlineMs } from './boot';

run('herald-api', async () => {
  const { config, herald, shutdown } = await startProductionRole('api');
  await herald.api!.listen({ port: config.port, host: config.host });
  stopOnSignals('herald-api', shutdown, stopDeadlineMs(config));
});
