/** `npm run api`: the HTTP API alone, against TEMPORAL_ADDRESS and DATABASE_URL. Run as many as you like. */
import { run, startProductionRole, stopOnSignals } from './boot';

run('herald-api', async () => {
  const { config, herald, stop } = await startProductionRole('api');
  await herald.api!.listen({ port: config.port, host: config.host });
  stopOnSignals(stop);
});
