import { LiquidError, type Template } from 'liquidjs';
import { CompiledTemplate, type CompiledTemplateCache } from './compiled';
import { MAX_JSON_DEPTH, jsonPath, type TemplateChannel, type TemplateContent } from './content';
import { textFromHtml } from './email';
import { UnknownPartialError, filterGlobals, type FilterEnvironment } from './liquid';
import {
  canonicalLocale,
  chooseTranslation,
  localeChain,
  localeLanguage,
  lookupTranslation,
  templateLocale,
  translationTable,
} from './locales';
import { TemplateRenderError, type TemplateWarning } from './problems';

export interface RenderJob {
  content: TemplateContent;
  /** The email HTML compiled when the version was saved (`compileEmail`); compiled now when absent. */
  compiledEmailHtml?: string;
  channel: TemplateChannel;
  data: Record<string, unknown>;
  /** The recipient's locale. */
  locale?: string;
  tenantDefaultLocale?: string;
  /** The recipient's IANA time zone, for `date_local`; UTC when absent or unknown. */
  timeZone?: string;
  /** Layouts and partials the content names, by key. */
  sources: Record<string, string>;
  /** For previews: an undefined variable renders empty and is reported as a warning instead of failing. */
  lenient?: boolean;
  /**
   * Names this content and these sources in a compiled-template cache (`tenant/key/version`); it must
   * change whenever either does. Without it, nothing is cached.
   */
  cacheKey?: string;
}

/** A message as a channel carries it. */
export interface RenderedMessage {
  /** Email subject, push or in-app title. */
  subject?: string;
  /** The text (email text part, push or in-app body; for a webhook, its payload as JSON). */
  text: string;
  html?: string;
  /** Push data. */
  data?: Record<string, string>;
  /** Webhook payload. */
  payload?: unknown;
  /** Slack blocks. */
  blocks?: unknown[];
  /** In-app action URL. */
  actionUrl?: string;
}

export interface RenderOutcome {
  message: RenderedMessage;
  /** The locale the message is written in: the first of the fallback chain the template has. */
  locale: string;
  warnings: TemplateWarning[];
}

/** A rendered field longer than this is refused: no channel carries it, and building it costs memory. */
export const MAX_OUTPUT_CHARS = 1_000_000;

/** How many undefined variables a lenient render fills in before it stops looking for more. */
const MAX_FILLED_VARIABLES = 50;

/** The locale a message for this job is written in, and the locale its numbers and dates are formatted in. */
export function messageLocales(
  job: Pick<RenderJob, 'content' | 'locale' | 'tenantDefaultLocale'>,
  translations = translationTable(job.content.locales),
) {
  const chain = localeChain(job.locale, job.tenantDefaultLocale, job.content.default_locale);
  const locale = templateLocale(translations, chain) ?? chain[0] ?? 'en';
  const requested = canonicalLocale(job.locale);
  // A fr-CA reader of French text gets Canadian numbers and dates; a Japanese reader of English text, English ones.
  const formatLocale = requested && sameLanguage(requested, locale) ? requested : locale;
  return { chain, locale, formatLocale };
}

function sameLanguage(a: string, b: string): boolean {
  return localeLanguage(a) === localeLanguage(b);
}

/**
 * One channel's message from a template version, the recipient's data and locale. Fails with a
 * `TemplateRenderError` naming the channel, the field and the reason.
 */
export async function renderTemplate(job: RenderJob, cache?: CompiledTemplateCache): Promise<RenderOutcome> {
  const compile = () => new CompiledTemplate(job.content, job.sources, job.compiledEmailHtml);
  const compiled = cache && job.cacheKey !== undefined ? cache.get(job.cacheKey, compile) : compile();
  const run = new MessageRender(job, compiled);
  const message = await run.message();
  return { message, locale: run.locale, warnings: run.warnings };
}

class MessageRender {
  readonly warnings: TemplateWarning[] = [];
  readonly locale: string;
  private readonly chain: string[];
  private readonly globals: object;
  private readonly channel: TemplateChannel;
  private readonly lenient: boolean;
  private readonly warned = new Set<string>();
  /** The field being rendered, for the warnings of filters it calls. */
  private field = '';

  constructor(
    private readonly job: RenderJob,
    private readonly compiled: CompiledTemplate,
  ) {
    this.channel = job.channel;
    this.lenient = job.lenient === true;
    const { chain, locale, formatLocale } = messageLocales(job, compiled.translations);
    this.chain = chain;
    this.locale = locale;
    const requested = job.locale === undefined ? undefined : (canonicalLocale(job.locale) ?? job.locale);
    if (requested && compiled.translations.size > 0 && requested !== locale) {
      this.warn('locale_fallback', `the template has no '${requested}' text; it is written in '${locale}'`);
    }
    const environment: FilterEnvironment = {
      translate: (key, args, html) => this.translate(key, args, html),
      formatLocale,
      timeZone: knownTimeZone(job.timeZone),
    };
    this.globals = filterGlobals(environment);
  }

  async message(): Promise<RenderedMessage> {
    const { content } = this.job;
    switch (this.channel) {
      case 'email': {
        const email = this.body(content.email);
        const subject = this.text('subject', email.subject);
        const html = this.render('html', await this.compiled.emailHtmlSource(), true);
        const text = email.text === undefined ? textFromHtml(html) : this.text('text', email.text);
        return { subject, text, html };
      }
      case 'sms':
      case 'telegram':
      case 'discord':
      case 'voice':
        return { text: this.text('text', this.body(content[this.channel]).text) };
      case 'slack': {
        const slack = this.body(content.slack);
        const text = this.text('text', slack.text);
        return slack.blocks === undefined ? { text } : { text, blocks: this.json(slack.blocks, 'blocks') as unknown[] };
      }
      case 'push': {
        const push = this.body(content.push);
        const message: RenderedMessage = {
          subject: this.text('title', push.title),
          text: this.text('body', push.body),
        };
        if (push.data !== undefined) {
          const data = this.json(push.data, 'data') as Record<string, unknown>;
          message.data = Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
          );
        }
        return message;
      }
      case 'in_app': {
        const inApp = this.body(content.in_app);
        const message: RenderedMessage = {
          subject: this.text('title', inApp.title),
          text: this.text('body', inApp.body),
        };
        if (inApp.action_url !== undefined) message.actionUrl = this.text('action_url', inApp.action_url);
        return message;
      }
      case 'webhook': {
        const payload = this.json(this.body(content.webhook).payload, 'payload');
        return { text: JSON.stringify(payload), payload };
      }
      default:
        throw new TemplateRenderError(`'${String(this.channel)}' is not a channel`);
    }
  }

  private body<T>(body: T | undefined): T {
    if (body === undefined || body === null) {
      throw new TemplateRenderError(`the template has no ${this.channel} body`, { channel: this.channel });
    }
    return body;
  }

  /** A required plain-text field. */
  private text(field: string, source: unknown): string {
    if (typeof source !== 'string') throw this.error(field, 'is not a string');
    return this.render(field, source, false);
  }

  /** A JSON body with each string value rendered as Liquid. */
  private json(value: unknown, path: string, depth = 0): unknown {
    if (typeof value === 'string') return this.render(path, value, false);
    if (depth >= MAX_JSON_DEPTH) throw this.error(path, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(value)) return value.map((item, i) => this.json(item, `${path}[${i}]`, depth + 1));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.json(v, jsonPath(path, k), depth + 1)]));
    }
    return value;
  }

  private render(field: string, source: string, html: boolean): string {
    this.field = field;
    let output: string;
    if (!/\{[{%]/.test(source))
      output = source; // No Liquid in it.
    else {
      let templates: Template[];
      try {
        templates = this.compiled.parse(source, html);
      } catch (error) {
        throw located(error, this.channel, field);
      }
      try {
        output = this.liquid(html, templates, this.job.data);
      } catch (error) {
        throw located(error, this.channel, field);
      }
    }
    if (output.length > MAX_OUTPUT_CHARS) throw this.error(field, `renders longer than ${MAX_OUTPUT_CHARS} characters`);
    return output;
  }

  /** Renders strictly; a lenient render fills each undefined variable with nil, warns, and renders again. */
  private liquid(html: boolean, templates: Template[], scope: Record<string, unknown>): string {
    const engine = this.compiled.engine(html);
    if (!this.lenient) return engine.renderSync(templates, scope, { globals: this.globals });
    let filled: Record<string, unknown> | undefined = scope;
    const seen = new Set<string>();
    for (let i = 0; filled && i < MAX_FILLED_VARIABLES; i++) {
      try {
        return engine.renderSync(templates, filled, { globals: this.globals });
      } catch (error) {
        const name = undefinedVariable(error);
        if (name === undefined) throw error;
        this.warn('missing_variable', `'${name}' is not defined`);
        // Named again after being filled: it is a loop's or a partial's own variable, out of reach of the data.
        if (seen.has(name)) break;
        seen.add(name);
        filled = withNil(filled, name.split('.'));
      }
    }
    return engine.renderSync(templates, scope, { globals: this.globals, strictVariables: false });
  }

  private translate(key: string, args: Record<string, unknown>, html: boolean): string {
    const field = this.field;
    const found = lookupTranslation(this.compiled.translations, this.chain, key);
    const text = found && chooseTranslation(found, args.count);
    if (text === undefined) {
      const where = this.chain.length ? `in ${this.chain.join(', ')}` : 'without a locale';
      const reason = `no translation of '${key}' ${where}`;
      if (!this.lenient) throw new TemplateRenderError(reason);
      this.warn('missing_translation', reason);
      return key;
    }
    if (!/\{[{%]/.test(text)) return text;
    try {
      const templates = this.compiled.parse(text, html);
      return this.liquid(html, templates, args);
    } catch (error) {
      // Rethrown as ours: liquidjs would otherwise report the translation's line as the field's.
      const cause = located(error, this.channel, field);
      throw new TemplateRenderError(`translation '${key}' (${found!.locale}): ${cause.reason}`);
    }
  }

  private warn(code: TemplateWarning['code'], message: string) {
    const field = code === 'locale_fallback' ? undefined : this.field;
    const id = `${code}\u0000${field}\u0000${message}`;
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.warnings.push({ code, message, channel: this.channel, ...(field ? { field } : {}) });
  }

  private error(field: string, reason: string): TemplateRenderError {
    return new TemplateRenderError(reason, { channel: this.channel, field });
  }
}

/** An error of liquidjs (or of a filter inside it) as a `TemplateRenderError` naming where it happened. */
export function located(error: unknown, channel: string, field: string): TemplateRenderError {
  if (error instanceof TemplateRenderError && error.field !== undefined) return error;
  const liquid = LiquidError.is(error) ? (error as LiquidError) : undefined;
  let cause: unknown = error;
  while ((cause as { originalError?: unknown })?.originalError)
    cause = (cause as { originalError: unknown }).originalError;
  let reason: string;
  if (cause instanceof TemplateRenderError) reason = cause.reason;
  else if (cause instanceof Error) reason = stripPosition(cause.message);
  else reason = String(cause);
  const token = liquid?.token as { getPosition?: () => number[]; file?: string } | undefined;
  const [line, column] = token?.getPosition?.() ?? [];
  if (token?.file) reason = `${reason} (in '${token.file}')`;
  const unknownPartial = cause instanceof UnknownPartialError ? cause.key : undefined;
  return new TemplateRenderError(reason, { channel, field, line, column, unknownPartial });
}

function stripPosition(message: string): string {
  return message.replace(/(, file:.*?)?, line:\d+, col:\d+$/, '');
}

function undefinedVariable(error: unknown): string | undefined {
  for (
    let e = error as { name?: string; variableName?: string; originalError?: unknown } | undefined;
    e;
    e = e.originalError as typeof e
  ) {
    if (e.name === 'InternalUndefinedVariableError' && typeof e.variableName === 'string') return e.variableName;
  }
  return undefined;
}

/** A copy of the scope with nil where the path first leaves the data (`user.nickname` -> user.nickname = nil). */
function withNil(scope: Record<string, unknown>, path: string[]): Record<string, unknown> | undefined {
  const root: Record<string, unknown> = { ...scope };
  let node: Record<string, unknown> = root;
  for (const [i, segment] of path.entries()) {
    const value = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (value === undefined || i === path.length - 1) {
      node[segment] = null;
      return root;
    }
    if (typeof value !== 'object' || value === null) return undefined; // A property of a string or a number.
    const copy = (Array.isArray(value) ? [...value] : { ...value }) as Record<string, unknown>;
    node[segment] = copy;
    node = copy;
  }
  return root;
}

const timeZones = new Map<string, boolean>();

/** The time zone if Intl knows it, else UTC: a recipient's mistyped zone changes a clock, never fails a send. */
function knownTimeZone(timeZone: string | undefined): string {
  if (!timeZone) return 'UTC';
  let known = timeZones.get(timeZone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone });
      known = true;
    } catch {
      known = false;
    }
    if (timeZones.size >= 1_000) timeZones.clear();
    timeZones.set(timeZone, known);
  }
  return known ? timeZone : 'UTC';
}
