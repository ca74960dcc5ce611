/**
 * Errors as they may leave Herald: in a log line, an activity's failure (kept in the workflow's history)
 * or an answer. A failed query's error carries every value the statement bound (drizzle's message and
 * `params`, the driver's `params`, `detail`, `where`): the accept statement binds the whole request.
 */

const EMAIL = /[\w.!#$%&'*+=?^`{|}~-]+@[a-z\d](?:[a-z\d-]*[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]*[a-z\d])?)+/gi;
const PHONE = /\+[1-9]\d{6,14}\b/g;

/** Email addresses and E.164 phone numbers in free text, replaced by what they are. */
export function withoutContacts(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

/** A failed query, told by the start of its statement and the server's own words, without any value. */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  /** The SQLSTATE, such as 23505 for a unique violation. */
  readonly code?: string;
  readonly constraint?: string;
  readonly table?: string;
  readonly column?: string;

  constructor(driverError: DriverError | undefined, query: string | undefined, stack: string | undefined) {
    const said = driverError ? serverMessage(driverError.message) : 'the database failed';
    super(query ? `${said}; in query: ${statementStart(query)}` : said);
    this.code = driverError?.code;
    this.constraint = driverError?.constraint;
    this.table = driverError?.table;
    this.column = driverError?.column;
    // The original frames only: the first line of a stack repeats the original message.
    this.stack = [`DatabaseError: ${this.message}`, ...framesOf(stack)].join('\n');
  }
}

interface DriverError extends Error {
  code?: string;
  severity?: string;
  constraint?: string;
  table?: string;
  column?: string;
  /** PGlite's errors carry their statement (and its values, in `params`). */
  query?: string;
}

/**
 * The same error without the values a database error carries; anything else as it is. An error whose
 * `cause` is a database error (at any depth) is copied with that cause made safe.
 */
export function safeError<T>(error: T, depth = 0): T | DatabaseError {
  if (!(error instanceof Error) || depth > 8) return error;
  if (isDriverError(error)) return new DatabaseError(error, error.query, error.stack);
  if (isDrizzleQueryError(error)) {
    const cause = error.cause instanceof Error ? error.cause : undefined;
    return new DatabaseError(cause as DriverError | undefined, error.query, error.stack);
  }
  const cause = (error as { cause?: unknown }).cause;
  const safeCause = safeError(cause, depth + 1);
  const message = withoutParams(error.message);
  if (safeCause === cause && message === error.message) return error;
  // A copy of the same class, so `instanceof` and the failure's type still hold.
  const copy = Object.create(Object.getPrototypeOf(error) as object) as T & Error;
  for (const key of Reflect.ownKeys(error)) {
    Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(error, key)!);
  }
  Object.defineProperty(copy, 'cause', { value: safeCause, enumerable: false, writable: true, configurable: true });
  copy.message = message;
  copy.stack = [`${error.name}: ${message}`, ...framesOf(error.stack)].join('\n');
  return copy;
}

/**
 * drizzle-orm's `DrizzleQueryError`, told by its shape: `instanceof` fails across the package's CommonJS
 * and ES module builds, which one process can load both of.
 */
function isDrizzleQueryError(error: Error): error is Error & { query: string; params: unknown[] } {
  const { query, params } = error as { query?: unknown; params?: unknown };
  return typeof query === 'string' && Array.isArray(params);
}

/** node-postgres' and PGlite's `DatabaseError`: a server error, with its SQLSTATE and severity. */
function isDriverError(error: Error): error is DriverError {
  const { code, severity } = error as DriverError;
  return typeof code === 'string' && /^[\dA-Z]{5}$/.test(code) && typeof severity === 'string';
}

/** A message that quoted a drizzle error's whole text keeps what came before its values. */
function withoutParams(message: string): string {
  const at = message.indexOf('\nparams: ');
  return at === -1 ? message : message.slice(0, at);
}

/** The server's message; one that ends by quoting the value it could not take (`...: "ada@…"`) loses the value. */
function serverMessage(message: string): string {
  return withoutContacts(message.replace(/: ".*"$/s, ': "…"'));
}

/** The statement on one line, its start only: a parameterized statement holds no values. */
function statementStart(query: string): string {
  const line = query.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

function framesOf(stack: string | undefined): string[] {
  return (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
}
