import {
  liquidFields,
  partialReferences,
  templateReferences,
  TEMPLATE_CHANNELS,
  type TemplateContent,
} from './content';
import { compileEmail } from './email';
import { createLiquidEngine } from './liquid';
import { canonicalLocale, missingTranslations, translationTable } from './locales';
import type { TemplateProblem } from './problems';
import { located } from './render-message';

export interface TemplateCheck {
  /** Why the version cannot be saved; empty when it can. */
  problems: TemplateProblem[];
  /** Per locale, the keys (and `key.category` plural forms) it cannot resolve: see `missingTranslations`. */
  missingTranslations: Record<string, string[]>;
  /** The layouts and partials it names, by key. */
  references: string[];
  /** The email's HTML with its Liquid left in it, to save with the version so sends never compile MJML. */
  compiledEmailHtml?: string;
}

const PLURAL_CATEGORIES = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

/**
 * Everything that can be known about a version before any data: every Liquid string parses, the MJML
 * compiles, partials are named by key, locales are BCP 47 tags. Layouts and partials missing from
 * `sources` are not problems here: the caller decides whether a reference to a template not saved yet
 * may be saved.
 */
export async function checkTemplate(content: TemplateContent, sources: Record<string, string>): Promise<TemplateCheck> {
  const problems = shapeProblems(content);
  const email = await compileEmail(content);
  problems.push(...email.errors);

  const engines = {
    html: createLiquidEngine({ sources, html: true }),
    text: createLiquidEngine({ sources, html: false }),
  };
  const fields = liquidFields(content);
  if (email.html !== undefined && content.email?.mjml !== undefined) {
    // MJML keeps the Liquid as text; parsing its output too catches what compiling did to it.
    fields.push({ channel: 'email', field: 'mjml', source: email.html, html: true });
  }
  const reported = new Set<string>();
  for (const { channel, field, source, html } of fields) {
    try {
      (html ? engines.html : engines.text).parse(source);
    } catch (error) {
      const { reason, line, column } = located(error, channel, field);
      // The MJML and the HTML compiled from it fail the same way: say it once.
      const id = `${channel}\u0000${field}\u0000${reason}`;
      if (!reported.has(id)) problems.push(withoutUndefined({ channel, field, line, column, message: reason }));
      reported.add(id);
      continue;
    }
    for (const reference of partialReferences(source)) {
      if (reference.key !== undefined) continue;
      problems.push({
        channel,
        field,
        line: reference.line,
        column: reference.column,
        message: `{% ${reference.tag} %} must name a template by a quoted key, such as {% ${reference.tag} 'footer' %}`,
      });
    }
  }

  return {
    problems,
    missingTranslations: missingTranslations(content),
    references: templateReferences(content),
    ...(email.html !== undefined ? { compiledEmailHtml: email.html } : {}),
  };
}

/** Fields of the wrong type, and locales that cannot be used. */
function shapeProblems(content: TemplateContent): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const requireString = (channel: string, field: string, value: unknown, optional = false) => {
    if (typeof value === 'string' || (optional && value === undefined)) return;
    problems.push({ channel, field, message: value === undefined ? 'is required' : 'must be a string' });
  };
  const { email, push, slack, in_app: inApp } = content;
  if (email) {
    requireString('email', 'subject', email.subject);
    requireString('email', 'text', email.text, true);
  }
  for (const channel of ['sms', 'telegram', 'discord', 'voice'] as const) {
    if (content[channel]) requireString(channel, 'text', content[channel].text);
  }
  if (push) {
    requireString('push', 'title', push.title);
    requireString('push', 'body', push.body);
    for (const [key, value] of Object.entries(push.data ?? {})) requireString('push', `data.${key}`, value);
  }
  if (slack) {
    requireString('slack', 'text', slack.text);
    if (slack.blocks !== undefined && !Array.isArray(slack.blocks)) {
      problems.push({ channel: 'slack', field: 'blocks', message: 'must be an array' });
    }
  }
  if (inApp) {
    requireString('in_app', 'title', inApp.title);
    requireString('in_app', 'body', inApp.body);
    requireString('in_app', 'action_url', inApp.action_url, true);
  }
  if (content.webhook && content.webhook.payload === undefined) {
    problems.push({ channel: 'webhook', field: 'payload', message: 'is required' });
  }
  requireString('layout', 'layout', content.layout, true);
  requireString('partial', 'partial', content.partial, true);
  const hasBody = [...TEMPLATE_CHANNELS, 'layout', 'partial'].some(
    (name) => content[name as keyof TemplateContent] !== undefined,
  );
  if (!hasBody) problems.push({ channel: 'template', field: 'content', message: 'has no body for any channel' });
  problems.push(...localeProblems(content));
  return problems;
}

function localeProblems(content: TemplateContent): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ channel: 'locales', field, message });
  for (const [tag, keys] of Object.entries(content.locales ?? {})) {
    if (!canonicalLocale(tag)) problem(tag, `'${tag}' is not a BCP 47 locale tag`);
    if (!keys || typeof keys !== 'object' || Array.isArray(keys)) {
      problem(tag, 'must map keys to translations');
      continue;
    }
    for (const [key, translation] of Object.entries(keys)) {
      if (typeof translation === 'string') continue;
      if (!translation || typeof translation !== 'object' || Array.isArray(translation)) {
        problem(`${tag}.${key}`, 'must be a string or an object of plural forms');
        continue;
      }
      for (const [category, text] of Object.entries(translation)) {
        if (!PLURAL_CATEGORIES.has(category)) {
          problem(`${tag}.${key}.${category}`, 'is not a plural category (zero, one, two, few, many, other)');
        } else if (typeof text !== 'string') problem(`${tag}.${key}.${category}`, 'must be a string');
      }
      if (!Object.hasOwn(translation, 'other')) {
        problem(`${tag}.${key}`, "needs an 'other' form: every locale's plural rules fall back to it");
      }
    }
  }
  const table = translationTable(content.locales);
  const fallback = content.default_locale;
  if (fallback !== undefined) {
    const canonical = canonicalLocale(fallback);
    if (!canonical)
      problems.push({
        channel: 'locales',
        field: 'default_locale',
        message: `'${fallback}' is not a BCP 47 locale tag`,
      });
    else if (table.size > 0 && !table.has(canonical)) {
      problems.push({
        channel: 'locales',
        field: 'default_locale',
        message: `'${fallback}' is not one of the template's locales`,
      });
    }
  }
  return problems;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
