import { trace } from '@opentelemetry/api';
import pino, { type LoggerOptions } from 'pino';

const SENSITIVE_FIELDS = [
  'email',
  'phone',
  'push_tokens',
  'pushTokens',
  'to',
  'recipient',
  'recipients',
  'apiKey',
  'api_key',
  'key',
  'secret',
  'webhookSecret',
  'authToken',
  'accessToken',
  'botToken',
  'password',
  'smtpUrl',
];

/** Contact data and secrets never reach a log line: as fields of what is logged, or of what those hold. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-herald-signature"]',
  ...SENSITIVE_FIELDS.flatMap((field) => [`*.${field}`, `*.*.${field}`]),
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
