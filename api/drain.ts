import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

/** The drain ends once every request is answered and none has come in for this long ... */
const QUIET_MS = 100;
/** ... or after this long, whatever keeps coming (well within the process's stop deadline). */
const MAX_DRAIN_MS = 10_000;

/**
 * Makes the API's close answer every request it has taken. Node's `server.close()` resets each
 * connection it counts as idle, which includes one whose request is still unread in its buffer (the
 * client gets no answer), and leaves open a keep-alive connection whose request is answered after
 * the close began, which then holds the close for the whole keep-alive timeout (72 s in Fastify).
 * So the close first waits until every request is answered and no more come in (a busy process
 * reads a new one only between the others' steps), answering them as usual (with
 * `return503OnClosing` off: Fastify's 503 leaves the body unread, and closing a socket with unread
 * data resets it before the client reads the answer), and every answer while closing ends its
 * connection.
 */
export function drainOnClose(app: FastifyInstance): void {
  let closing = false;
  let lastArrival = 0;
  let inFlight = 0;
  const arrived = () => (lastArrival = Date.now());
  app.server.on('connection', arrived);
  app.server.on('request', (_request, response) => {
    arrived();
    inFlight++;
    response.once('close', () => inFlight--);
  });
  app.addHook('preClose', async () => {
    closing = true;
    const deadline = Date.now() + MAX_DRAIN_MS;
    for (;;) {
      const seen = lastArrival;
      await sleep(QUIET_MS);
      // Past the loop's I/O phase, which takes the connections and requests waiting in the kernel: a
      // loop kept busy would otherwise end the quiet time before it saw them.
      await new Promise((resolve) => setImmediate(resolve));
      if ((lastArrival === seen && inFlight === 0) || Date.now() > deadline) return;
    }
  });
  // Answers given while closing end their connections; those given before are idle by the time the
  // drain ends, and the server's close ends them.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
}
