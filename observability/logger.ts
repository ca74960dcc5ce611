import { trace } from '@opentelemetry/api';
import pino, { type LoggerOptions } from 'pino';
import { safeError, withoutContacts } from './safe-errors';

const SENSITIVE_FIELDS = new Set([
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
  'authorization',
  'x-herald-signature',
  // A query's bound values, should an error's fields ever be logged as a plain object.
  'params',
]);

const CENSOR = '[redacted]';
/** Deeper than any object Herald or the Temporal SDK logs; a bound on the cost of a pathological one. */
const MAX_DEPTH = 12;

/**
 * A copy of a logged value fit for a log line: sensitive fields censored at every depth, errors
 * serialized without the values a failed query bound, contact details in free text replaced. Objects
 * other than plain ones and arrays (a request, a reply) are left to their serializers.
 */
export function redacted(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return withoutContacts(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) {
    seen.add(value);
    return redacted(pino.stdSerializers.err(safeError(value)), depth + 1, seen);
  }
  const plain = Array.isArray(value) || [Object.prototype, null].includes(Object.getPrototypeOf(value));
  if (!plain) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redacted(item, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = SENSITIVE_FIELDS.has(key) ? CENSOR : redacted(field, depth + 1, seen);
  }
  return copy;
}

/**
 * A path as logged: an API key in the query string, a signed link's token (it names a recipient, and
 * acts for them), or an address in a path segment, is left out.
 */
function loggedUrl(url: string | undefined): string | undefined {
  const keyless = url
    ?.replace(/([?&](?:api_key|token)=)[^&]*/g, '$1[redacted]')
    .replace(/^\/(ack|unsubscribe)\/[^/?]+/, '/$1/[token]');
  if (keyless === undefined) return undefined;
  let decoded = keyless;
  try {
    decoded = decodeURIComponent(keyless);
  } catch {
    // Not valid percent-encoding: read as it is.
  }
  const clean = withoutContacts(decoded);
  return clean === decoded ? keyless : clean;
}

/** Structured JSON logs; each line inside a traced request or activity carries its trace id. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    mixin() {
      const span = trace.getActiveSpan();
      return span ? { trace_id: span.spanContext().traceId } : {};
    },
    hooks: {
      // Runs before pino reads the arguments: an error logged alone also gives the line its message.
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (first instanceof Error) return method.apply(this, [safeError(first), ...rest] as Parameters<typeof method>);
        if (typeof first === 'object' && first !== null)
          return method.apply(this, [redacted(first), ...rest] as Parameters<typeof method>);
        return method.apply(this, args);
      },
    },
    serializers: {
      err: (err: unknown) => redacted(err),
      msg: (msg: unknown) => (typeof msg === 'string' ? withoutContacts(msg) : msg),
      req: (req: { method?: string; url?: string; routeOptions?: { url?: string } }) => ({
        method: req.method,
        // A browser may carry its API key in the query string: keep it out of the log.
        url: loggedUrl(req.url),
        route: req.routeOptions?.url,
      }),
    },
  };
}

export function createLogger(level: string) {
  return pino(loggerOptions(level));
}
