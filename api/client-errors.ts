import type { Socket } from 'node:net';

/**
 * Answers a request Node's HTTP parser refused before Fastify saw it, as a problem like every other
 * refusal (Fastify's own answer is plain JSON): URL and headers past the API's 64 KiB, or a request that
 * does not parse. Written straight to the socket, which is then closed: the parser cannot go on.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, title, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          "The URL and headers together are longer than 64 KiB: shorten them (a recipient token fits in the Authorization header; a query's values have their own maximum lengths)",
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request did not arrive in time: send it again']
        : [400, 'Bad Request', 'The request is not valid HTTP/1.1'];
  const body = JSON.stringify({ type: 'about:blank', title, status, detail, field: 'request' });
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/problem+json\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy(error);
}
