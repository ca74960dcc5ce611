import { TagToken, Tokenizer } from 'liquidjs';
import type { Channel } from '../channels';

/** A translation: one text, or one text per CLDR plural category chosen by `count`. */
export type Translation = string | Partial<Record<Intl.LDMLPluralRule, string>>;

/** A template version's content as stored (snake_case, as the API receives it). Every string is Liquid. */
export interface TemplateContent {
  /** Exactly one of `html` and `mjml`. */
  email?: { subject: string; html?: string; mjml?: string; text?: string };
  sms?: { text: string };
  push?: { title: string; body: string; data?: Record<string, string> };
  telegram?: { text: string };
  /** `blocks` is Block Kit JSON whose string values are Liquid. */
  slack?: { text: string; blocks?: unknown[] };
  discord?: { text: string };
  voice?: { text: string };
  in_app?: { title: string; body: string; action_url?: string };
  /** JSON whose string values are Liquid. */
  webhook?: { payload: unknown };
  /** This template is a layout: other templates name it with `{% layout 'key' %}`. */
  layout?: string;
  /** This template is a partial: other templates name it with `{% render 'key' %}`. */
  partial?: string;
  /** BCP 47 tag -> key -> translation. */
  locales?: Record<string, Record<string, Translation>>;
  default_locale?: string;
}

export const TEMPLATE_CHANNELS = [
  'email',
  'sms',
  'push',
  'telegram',
  'slack',
  'discord',
  'voice',
  'in_app',
  'webhook',
] as const satisfies readonly Channel[];
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

/** One Liquid string of a template and where it sits, to name it in problems. */
export interface LiquidField {
  /** A channel, or `layout`, `partial`, `locales`. */
  channel: string;
  field: string;
  source: string;
  /** Rendered into HTML, so its output is escaped. */
  html: boolean;
}

/** Every Liquid string the content holds (strings only: a field of the wrong type is the shape check's). */
export function liquidFields(content: TemplateContent): LiquidField[] {
  const fields: LiquidField[] = [];
  const add = (channel: string, field: string, source: unknown, html = false) => {
    if (typeof source === 'string') fields.push({ channel, field, source, html });
  };
  const { email, push, slack, in_app: inApp, webhook } = content;
  if (email) {
    add('email', 'subject', email.subject);
    add('email', 'html', email.html, true);
    add('email', 'mjml', email.mjml, true);
    add('email', 'text', email.text);
  }
  for (const channel of ['sms', 'telegram', 'discord', 'voice'] as const) add(channel, 'text', content[channel]?.text);
  if (push) {
    add('push', 'title', push.title);
    add('push', 'body', push.body);
    for (const s of jsonStrings(push.data, 'data')) add('push', s.path, s.value);
  }
  if (slack) {
    add('slack', 'text', slack.text);
    for (const s of jsonStrings(slack.blocks, 'blocks')) add('slack', s.path, s.value);
  }
  if (inApp) {
    add('in_app', 'title', inApp.title);
    add('in_app', 'body', inApp.body);
    add('in_app', 'action_url', inApp.action_url);
  }
  if (webhook) for (const s of jsonStrings(webhook.payload, 'payload')) add('webhook', s.path, s.value);
  add('layout', 'layout', content.layout);
  add('partial', 'partial', content.partial);
  for (const [locale, keys] of Object.entries(content.locales ?? {})) {
    for (const [key, translation] of Object.entries(keys ?? {})) {
      if (typeof translation === 'string') add('locales', `${locale}.${key}`, translation);
      else if (translation && typeof translation === 'object') {
        for (const [category, text] of Object.entries(translation))
          add('locales', `${locale}.${key}.${category}`, text);
      }
    }
  }
  return fields;
}

/** Nesting deeper than this in a JSON body is refused: no message needs it, and walking it costs stack. */
export const MAX_JSON_DEPTH = 32;

/** The string values of a JSON value with their paths (`blocks[0].text.text`), depth-first. */
export function* jsonStrings(value: unknown, path: string, depth = 0): Generator<{ path: string; value: string }> {
  if (typeof value === 'string') yield { path, value };
  else if (depth >= MAX_JSON_DEPTH) return;
  else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* jsonStrings(value[i], `${path}[${i}]`, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* jsonStrings(item, jsonPath(path, key), depth + 1);
  }
}

export function jsonPath(parent: string, key: string): string {
  return /^[A-Za-z_][\w-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** A `{% layout %}`, `{% render %}` or `{% include %}` in a Liquid string. */
export interface PartialReference {
  tag: 'layout' | 'render' | 'include';
  /** The key named; absent when the name is computed at render time (a variable), which keys cannot be. */
  key?: string;
  line: number;
  column: number;
}

const REFERENCE_TAGS = new Set(['layout', 'render', 'include']);

/** The partials and layouts a Liquid string names, in order. */
export function partialReferences(source: string): PartialReference[] {
  let tokens;
  try {
    tokens = new Tokenizer(source).readTopLevelTokens();
  } catch {
    return referencesByPattern(source); // Unparsable: the parse check reports why; still name what it can.
  }
  const references: PartialReference[] = [];
  let commentDepth = 0;
  for (const token of tokens) {
    if (!(token instanceof TagToken)) continue;
    if (token.name === 'comment') commentDepth++;
    else if (token.name === 'endcomment') commentDepth = Math.max(0, commentDepth - 1);
    if (commentDepth > 0) continue;
    const [line = 1, column = 1] = token.getPosition();
    if (token.name === 'liquid') {
      // `{% liquid %}` holds one tag a line.
      for (const statement of token.args.split('\n')) {
        const match = /^\s*(\w+)\s*(.*)$/.exec(statement);
        if (match) pushReference(references, match[1]!, match[2]!, line, column);
      }
    } else pushReference(references, token.name, token.args, line, column);
  }
  return references;
}

function pushReference(references: PartialReference[], tag: string, args: string, line: number, column: number) {
  if (!REFERENCE_TAGS.has(tag)) return;
  const quoted = /^\s*(['"])(.*?)\1/.exec(args);
  if (tag === 'layout' && !quoted && /^\s*none\b/.test(args)) return; // `{% layout none %}`: no layout.
  // A quoted name holding Liquid (`"{{ x }}"`) is computed at render time, like a variable.
  const key = quoted && !/\{\{|\{%/.test(quoted[2]!) ? quoted[2] : undefined;
  references.push({ tag: tag as PartialReference['tag'], key, line, column });
}

function referencesByPattern(source: string): PartialReference[] {
  const pattern = /\{%-?\s*(layout|render|include)\s+(['"])([^'"]*)\2/g;
  return [...source.matchAll(pattern)].map((m) => {
    const before = source.slice(0, m.index);
    const line = before.split('\n').length;
    return {
      tag: m[1] as PartialReference['tag'],
      key: m[3],
      line,
      column: m.index - before.lastIndexOf('\n'),
    };
  });
}

/** The keys of the layouts and partials the content names anywhere, once each, in order of appearance. */
export function templateReferences(content: TemplateContent): string[] {
  const keys = new Set<string>();
  for (const { source } of liquidFields(content)) {
    for (const { key } of partialReferences(source)) if (key !== undefined) keys.add(key);
  }
  return [...keys];
}
