import { Liquid, type Context, type FS } from 'liquidjs';

/**
 * liquidjs's own safeguards. They are cooperative (checked between steps, not a sandbox), so a
 * render also runs under a timeout in a thread that can be terminated.
 */
export const LIQUID_LIMITS = {
  /** Characters of template source one parse may read. */
  parseLimit: 1_000_000,
  /** Milliseconds one render may take. */
  renderLimit: 1_000,
  /** Units (characters, array items) that ranges and string filters may allocate in one render. */
  memoryLimit: 10_000_000,
} as const;

/** A layout or partial key the sources do not hold. */
export class UnknownPartialError extends Error {
  constructor(readonly key: string) {
    super(`unknown partial '${key}'`);
    this.name = 'UnknownPartialError';
  }
}

/** What the `t` and Intl filters need from the render they run in; reached through the render's globals. */
export interface FilterEnvironment {
  /**
   * The translation of a key for the recipient, its Liquid rendered with the args (and `count`). Into
   * HTML, the translation's own markup stays and the args it prints are escaped.
   */
  translate(key: string, args: Record<string, unknown>, html: boolean): string;
  /** The recipient's locale, for number and date formats. */
  formatLocale: string;
  timeZone: string;
}

/** The globals key of the filter environment: a symbol, so no template can name it. */
export const FILTER_ENVIRONMENT = Symbol('herald.filterEnvironment');

export function filterGlobals(environment: FilterEnvironment): object {
  return { [FILTER_ENVIRONMENT]: environment };
}

export interface LiquidEngineOptions {
  /** Layouts and partials by key: the only templates `{% layout %}`, `{% render %}` and `{% include %}` reach. */
  sources: Readonly<Record<string, string>>;
  /** Output goes into HTML: every `{{ }}` is escaped unless it ends with `| raw`. */
  html: boolean;
}

export function createLiquidEngine({ sources, html }: LiquidEngineOptions): Liquid {
  const engine = new Liquid({
    fs: sourcesFs(sources),
    root: [''],
    partials: [''],
    layouts: [''],
    extname: '',
    relativeReference: false,
    // Parsed partials are kept per engine, and an engine serves one template version's sources.
    cache: 100,
    strictVariables: true,
    strictFilters: true,
    // `{% if coupon %}` and `{{ name | default: "there" }}` may name data a message lacks.
    lenientIf: true,
    ownPropertyOnly: true,
    outputEscape: html ? 'escape' : undefined,
    // The built-in `date` filter is the server's, the same everywhere; `date_local` is the recipient's.
    timezoneOffset: 0,
    ...LIQUID_LIMITS,
  });
  // Raw: escaping is done inside, on the args, so a translation may hold markup (as the template may).
  engine.registerFilter('t', { handler: translateFilter, raw: true });
  engine.registerFilter('date_local', dateLocalFilter);
  engine.registerFilter('number', numberFilter);
  engine.registerFilter('currency', currencyFilter);
  return engine;
}

function sourcesFs(sources: Readonly<Record<string, string>>): FS {
  const read = (key: string): string => {
    if (!Object.hasOwn(sources, key) || typeof sources[key] !== 'string') throw new UnknownPartialError(key);
    return sources[key]!;
  };
  return {
    // Every key "exists" so that a missing one reaches `read` and fails with its own name.
    exists: async () => true,
    existsSync: () => true,
    readFile: async (key) => read(key),
    readFileSync: read,
    resolve: (_dir, key) => key,
  };
}

type FilterThis = { context: Context; liquid: Liquid };

function environmentOf(filter: FilterThis): FilterEnvironment {
  const environment = (filter.context.globals as Record<symbol, FilterEnvironment | undefined>)[FILTER_ENVIRONMENT];
  if (!environment) throw new Error('this filter needs a message render');
  return environment;
}

/** `{{ "items" | t: count: n, name: user.name }}`; a bare number (`t: n`) is the count. */
function translateFilter(this: FilterThis, key: unknown, ...params: unknown[]): string {
  const args: Record<string, unknown> = {};
  for (const param of params) {
    if (Array.isArray(param) && param.length === 2 && typeof param[0] === 'string') args[param[0]] = param[1];
    else if (typeof param === 'number' && !('count' in args)) args.count = param;
  }
  return environmentOf(this).translate(String(key), args, Boolean(this.liquid.options.outputEscape));
}

const DATE_STYLES = new Set(['full', 'long', 'medium', 'short']);

/** `{{ order.placed_at | date_local: "long" }}`, `date_local: "short", "short"` adds the time, `"none", "short"` is the time alone. */
function dateLocalFilter(this: FilterThis, value: unknown, dateStyle: unknown = 'medium', timeStyle?: unknown): string {
  const { formatLocale, timeZone } = environmentOf(this);
  const styles = [dateStyle, timeStyle ?? 'none'];
  if (styles.some((s) => s !== 'none' && !DATE_STYLES.has(String(s))) || styles.every((s) => s === 'none')) {
    throw new Error(`date_local: styles are "full", "long", "medium", "short" or "none", got "${styles.join('", "')}"`);
  }
  const options: Intl.DateTimeFormatOptions = { timeZone };
  if (dateStyle !== 'none') options.dateStyle = dateStyle as Intl.DateTimeFormatOptions['dateStyle'];
  if (styles[1] !== 'none') options.timeStyle = styles[1] as Intl.DateTimeFormatOptions['timeStyle'];
  return cachedFormat(
    `d|${formatLocale}|${timeZone}|${styles.join('|')}`,
    () => new Intl.DateTimeFormat(formatLocale, options),
  ).format(toDate(value));
}

/** Dates as data carries them: ISO strings, Unix seconds (as the built-in `date` filter reads numbers), or "now". */
function toDate(value: unknown): Date {
  let date: Date;
  if (value instanceof Date) date = value;
  else if (value === 'now' || value === 'today') date = new Date();
  else if (typeof value === 'number') date = new Date(value * 1000);
  else if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) date = new Date(Number(value) * 1000);
  else if (typeof value === 'string') date = new Date(value);
  else date = new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new Error(`date_local: ${JSON.stringify(value)} is not a date`);
  return date;
}

/** `{{ total | number }}`, `number: 2` for exactly two decimals. */
function numberFilter(this: FilterThis, value: unknown, decimals?: unknown): string {
  const { formatLocale } = environmentOf(this);
  const digits = decimals === undefined ? undefined : Number(decimals);
  if (digits !== undefined && !(Number.isInteger(digits) && digits >= 0 && digits <= 20)) {
    throw new Error(`number: decimals must be a whole number from 0 to 20, got ${JSON.stringify(decimals)}`);
  }
  const options = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return cachedFormat(`n|${formatLocale}|${digits}`, () => new Intl.NumberFormat(formatLocale, options)).format(
    toNumber('number', value),
  );
}

/** `{{ total | currency: "EUR" }}`: the symbol, its place and the decimals are the recipient locale's. */
function currencyFilter(this: FilterThis, value: unknown, currency?: unknown): string {
  const { formatLocale } = environmentOf(this);
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    throw new Error(`currency: needs an ISO 4217 code such as "EUR", got ${JSON.stringify(currency)}`);
  }
  const code = currency.toUpperCase();
  return cachedFormat(
    `c|${formatLocale}|${code}`,
    () => new Intl.NumberFormat(formatLocale, { style: 'currency', currency: code }),
  ).format(toNumber('currency', value));
}

function toNumber(filter: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${filter}: ${JSON.stringify(value)} is not a number`);
  return n;
}

// Building an Intl formatter costs far more than using one; the bound stops a flood of locales and zones.
const formatters = new Map<string, { format(value: never): string }>();

function cachedFormat<F extends { format(value: never): string }>(key: string, create: () => F): F {
  let formatter = formatters.get(key) as F | undefined;
  if (!formatter) {
    if (formatters.size >= 1_000) formatters.clear();
    formatter = create();
    formatters.set(key, formatter);
  }
  return formatter;
}
