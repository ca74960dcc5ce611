import http from 'node:http';
import { registry } from './metrics';

/**
 * Serves the process's metrics at /metrics, for processes without the API (a separate worker), and
 * /readyz: 200 once `ready()` says the process does its work (a worker polls its task queues), 503
 * before that and while it stops, so a rollout waits for a new worker before it stops an old one.
 */
export async function serveMetrics(address: string, ready: () => boolean = () => true): Promise<http.Server> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator) || '0.0.0.0';
  const port = Number(address.slice(separator + 1));
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') {
      const answer = ready() ? 'ready' : 'not ready';
      res.writeHead(answer === 'ready' ? 200 : 503, { 'content-type': 'text/plain' }).end(answer);
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return server;
}
