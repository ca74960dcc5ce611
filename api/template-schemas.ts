import { NO_NUL } from './schemas';

/** Template keys are named in Liquid (`{% render 'footer' %}`) and in paths: letters, digits, `_ . -`. */
export const TEMPLATE_KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

const liquid = (maxLength: number, description?: string) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: NO_NUL, ...(description ? { description } : {}) }) as const;

const textBody = (maxLength: number) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: { text: liquid(maxLength) },
  }) as const;

const PLURAL_CATEGORIES = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;

const translationSchema = {
  anyOf: [
    liquid(4096),
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description: 'Plural forms, chosen by `count` with the CLDR rules of the locale',
      properties: Object.fromEntries(PLURAL_CATEGORIES.map((c) => [c, liquid(4096)])) as Record<
        (typeof PLURAL_CATEGORIES)[number],
        ReturnType<typeof liquid>
      >,
    },
  ],
} as const;

/** A template version: a body per channel in Liquid, or a layout or partial, and translations per locale. */
export const templateContentSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    email: {
      type: 'object',
      additionalProperties: false,
      required: ['subject'],
      oneOf: [{ required: ['html'] }, { required: ['mjml'] }],
      properties: {
        subject: liquid(998),
        html: liquid(262_144),
        // MJML grows several times over when compiled; the compiled HTML must stay within the parse limit.
        mjml: liquid(65_536, 'MJML, compiled to responsive HTML with its CSS inlined'),
        text: liquid(131_072, 'The plain-text part; derived from the HTML when absent'),
      },
    },
    sms: textBody(4096),
    push: {
      type: 'object',
      additionalProperties: false,
      required: ['title', 'body'],
      properties: {
        title: liquid(512),
        body: liquid(4096),
        data: { type: 'object', maxProperties: 50, additionalProperties: liquid(4096) },
      },
    },
    telegram: textBody(8192),
    slack: {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: {
        text: liquid(40_000),
        blocks: { type: 'array', maxItems: 50, description: 'Slack Block Kit blocks; their strings are Liquid' },
      },
    },
    discord: textBody(4000),
    voice: textBody(4096),
    in_app: {
      type: 'object',
      additionalProperties: false,
      required: ['title', 'body'],
      properties: { title: liquid(512), body: liquid(16_384), action_url: liquid(2048) },
    },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['payload'],
      properties: { payload: { description: 'JSON whose strings are Liquid' } },
    },
    layout: liquid(262_144, "This template is a layout: `{% layout 'key' %}` wraps a body in it"),
    partial: liquid(65_536, "This template is a partial: `{% render 'key' %}` places it"),
    locales: {
      type: 'object',
      maxProperties: 100,
      description: 'Translations per BCP 47 locale (`fr`, `fr-CA`), for the `t` filter: key to translation',
      additionalProperties: { type: 'object', maxProperties: 2000, additionalProperties: translationSchema },
    },
    default_locale: {
      type: 'string',
      pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$',
      description: 'The locale used when neither the recipient’s nor the tenant default has a translation',
    },
  },
} as const;
