import http from 'node:http';
import { registry } from './metrics';

/** Serves the process's metrics at /metrics, for processes without the API (a separate worker). */
export async function serveMetrics(address: string): Promise<http.Server> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator) || '0.0.0.0';
  const port = Number(address.slice(separator + 1));
  const server = http.createServer((req, res) => {
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
