import { trace } from '@opentelemetry/api';
import pino, { type LoggerOptions } from 'pino';

/** Contact data and secrets never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-herald-signature"]',
  '*.email',
  '*.phone',
  '*.push_tokens',
  '*.pushTokens',
  '*.to',
  '*.recipient',
  '*.recipients',
  '*.apiKey',
  '*.api_key',
];

/** Structured JSON logs; each line inside a traced request or activity carries its trace id. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin() {
      const span = trace.getActiveSpan();
      return span ? { trace_id: span.spanContext().traceId } : {};
    },
    serializers: {
      req: (req: { method?: string; url?: string; routeOptions?: { url?: string } }) => ({
        method: req.method,
        // A browser may carry its API key in the query string: keep it out of the log.
        url: req.url?.replace(/([?&]api_key=)[^&]*/, '$1[redacted]'),
        route: req.routeOptions?.url,
      }),
    },
  };
}

export function createLogger(level: string) {
  return pino(loggerOptions(level));
}
