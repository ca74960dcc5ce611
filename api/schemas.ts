import { CHANNELS } from '../domain/channels';
import { DELIVERY_STATUSES, NOTIFICATION_STATUSES, PRIORITIES, RECEIPT_STATUSES } from '../domain/notification';
import { CONDITIONS, DURATION_PATTERN, STRATEGIES } from '../domain/orchestration';

/** Route schemas: each is the validation, the serializer and the OpenAPI document at once. */

export const problemSchema = {
  type: 'object',
  description: 'An RFC 9457 problem',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    field: { type: 'string', description: 'The request field at fault' },
    instance: { type: 'string' },
  },
} as const;

/** PostgreSQL text cannot hold a NUL character: every string Herald keeps says so in its schema. */
export const NO_NUL = '^[^\\u0000]*$';

/** E.164 as the document states it, so generated clients and validators agree; the `phone` format adds the numbering plans. */
export const PHONE_PATTERN = '^\\+[1-9][0-9]{6,14}$';
/** An IANA zone's shape (`Europe/Paris`, `America/Argentina/Buenos_Aires`, `UTC`); the `timezone` format checks it exists. */
export const TIMEZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$';
const ID_PATTERN = '^[^\\s/\\u0000-\\u001f\\u007f]+$';
const TELEGRAM_CHAT_PATTERN = '^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32})$';
const SLACK_WEBHOOK_PATTERN = '^https://hooks\\.slack\\.com/[^\\u0000]*$';
const DISCORD_WEBHOOK_PATTERN = '^https://discord\\.com/api/webhooks/[^\\u0000]*$';
const SEND_AT_PATTERN =
  '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$';

const E164 = 'a phone number in E.164 form: +, the country code and the number, digits only, e.g. +14155550100';
const IANA_ZONE = 'an IANA time zone name, e.g. Europe/Paris, America/New_York or UTC';

/** What a value refused by its pattern should look like: the fix, not the regular expression. */
export const PATTERN_HINTS: Record<string, string> = {
  [NO_NUL]: 'must not contain a NUL character',
  [DURATION_PATTERN]: 'must be a duration: a whole number and a unit (ms, s, m, h or d), e.g. 90s, 5m or 2h',
  [PHONE_PATTERN]: `must be ${E164}`,
  [TIMEZONE_PATTERN]: `must be ${IANA_ZONE}`,
  [ID_PATTERN]: 'must be printable, with no spaces, slashes or control characters',
  [TELEGRAM_CHAT_PATTERN]: 'must be a Telegram chat id (digits, with - for groups) or a @channelusername',
  [SLACK_WEBHOOK_PATTERN]: 'must be a Slack incoming webhook URL, https://hooks.slack.com/services/…',
  [DISCORD_WEBHOOK_PATTERN]: 'must be a Discord webhook URL, https://discord.com/api/webhooks/…',
  [SEND_AT_PATTERN]:
    "must be an instant such as 2026-12-01T09:00:00Z, or a local time such as 2026-12-01T09:00 read in each recipient's time zone",
};

/** What a value of the right shape refused by its format should be. */
export const FORMAT_HINTS: Record<string, string> = {
  phone: `must be ${E164}; this one has the shape but no country's numbering plan has it (check the country code and the number's length)`,
  timezone: `must be ${IANA_ZONE}; this one is not in the time zone database`,
  email: 'must be an email address, e.g. ada@example.com',
  'date-time': 'must be an RFC 3339 date and time with its offset, e.g. 2026-12-01T09:00:00Z',
  uri: 'must be an absolute URL, e.g. https://example.com/path',
};

const PROBLEMS = {
  400: 'Invalid request: `field` names the part at fault',
  401: 'No valid API key, or a webhook signature that does not verify',
  403: 'The API key lacks the scope this operation needs',
  404: 'Nothing with that id for this tenant',
  409: 'Conflicts with an earlier request, e.g. an Idempotency-Key reused with another body',
  413: 'The request body is larger than the limit',
  415: 'The body is not of a type this operation takes',
  422: 'Well-formed, but names something that does not exist',
  429: "Over the tenant's request rate or daily quota: `Retry-After` says when to come back",
  431: 'The URL and headers are longer than 64 KiB',
  503: 'A dependency is down; `field` names which',
} as const;

/** The statuses an operation can answer with a problem, each documented as `application/problem+json`. */
export function problems<S extends keyof typeof PROBLEMS>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: PROBLEMS[status], content: { 'application/problem+json': { schema: problemSchema } } },
    ]),
  ) as unknown as Record<
    S,
    { description: string; content: { 'application/problem+json': { schema: typeof problemSchema } } }
  >;
}

/** Problems every authenticated operation with a JSON body can answer: 422 for a NUL in a free-form part. */
export const BODY_PROBLEMS = [400, 401, 413, 415, 422] as const;

/** An IANA time zone: its shape in the document, its existence checked by the `timezone` format. */
export function timezoneSchema(description: string) {
  return { type: 'string', maxLength: 64, pattern: TIMEZONE_PATTERN, format: 'timezone', description } as const;
}

const contactFields = {
  email: { type: 'string', format: 'email', maxLength: 254 },
  phone: { type: 'string', pattern: PHONE_PATTERN, format: 'phone', description: 'E.164, e.g. +14155550100' },
  push_tokens: {
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: 4096, pattern: NO_NUL },
    maxItems: 20,
  },
  locale: { type: 'string', minLength: 2, maxLength: 35, pattern: NO_NUL },
  timezone: timezoneSchema('IANA name, e.g. Europe/Paris'),
  telegram_chat_id: {
    type: 'string',
    pattern: TELEGRAM_CHAT_PATTERN,
    description: 'A chat id, or @channelusername',
  },
  slack_webhook_url: {
    type: 'string',
    maxLength: 512,
    pattern: SLACK_WEBHOOK_PATTERN,
    description: 'A Slack incoming webhook URL',
  },
  discord_webhook_url: {
    type: 'string',
    maxLength: 512,
    pattern: DISCORD_WEBHOOK_PATTERN,
    description: 'A Discord webhook URL',
  },
} as const;

/** An id in a path or query: printable, no spaces or slashes, so it is safe in a URL, a log and the database. */
export const idSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: ID_PATTERN,
} as const;
export const recipientIdSchema = idSchema;

export const MAX_RECIPIENTS = 1000;

/** A recipient given inline: an id of the caller's choosing (or the first address) and its addresses. */
export const recipientItemSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { id: recipientIdSchema, ...contactFields },
} as const;

export const channelListSchema = {
  type: 'array',
  minItems: 1,
  maxItems: CHANNELS.length,
  uniqueItems: true,
  items: { type: 'string', enum: CHANNELS },
} as const;

export function durationSchema(description: string) {
  return { type: 'string', pattern: DURATION_PATTERN, description } as const;
}

export const escalationPolicySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['steps'],
  description: "Steps that run one after another until someone acknowledges (or the step's `unless` is met)",
  properties: {
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: 10,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['after', 'channels'],
        properties: {
          after: durationSchema('How long after the previous step, e.g. `5m`'),
          channels: channelListSchema,
          unless: { type: 'string', enum: CONDITIONS, default: 'acknowledged' },
        },
      },
    },
    repeat: { type: 'integer', minimum: 0, maximum: 10, default: 0, description: 'Times the steps run again' },
    ack_timeout: durationSchema('An acknowledgement not resolved within this long re-opens the escalation'),
  },
} as const;

export const notifyBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channels'],
  // Stored recipients by id, inline ones, or both; and a message or a template.
  anyOf: [{ required: ['recipients'] }, { required: ['recipient_ids'] }],
  properties: {
    channels: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: CHANNELS },
    },
    recipient_ids: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_RECIPIENTS,
      uniqueItems: true,
      items: recipientIdSchema,
    },
    recipients: { type: 'array', minItems: 1, maxItems: MAX_RECIPIENTS, items: recipientItemSchema },
    message: {
      anyOf: [
        { type: 'string', minLength: 1, maxLength: 65_536, pattern: NO_NUL },
        {
          type: 'object',
          additionalProperties: false,
          required: ['text'],
          properties: {
            subject: { type: 'string', minLength: 1, maxLength: 998, pattern: NO_NUL },
            text: { type: 'string', minLength: 1, maxLength: 65_536, pattern: NO_NUL },
            html: { type: 'string', minLength: 1, maxLength: 131_072, pattern: NO_NUL },
            actions: {
              type: 'array',
              maxItems: 5,
              description: 'Links shown as buttons in chat and push, as lines in email and SMS',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['label', 'url'],
                properties: {
                  label: { type: 'string', minLength: 1, maxLength: 64, pattern: NO_NUL },
                  url: { type: 'string', format: 'uri', pattern: '^https?://[^\\u0000]*$', maxLength: 2048 },
                },
              },
            },
          },
        },
      ],
    },
    template: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
      description: 'A template to render the message from, instead of `message`: its live version is pinned now',
    },
    data: { type: 'object', maxProperties: 200, description: "The template's variables" },
    locale: {
      type: 'string',
      minLength: 2,
      maxLength: 35,
      pattern: NO_NUL,
      description: 'The locale to render in for recipients without one of their own',
    },
    priority: { type: 'string', enum: PRIORITIES, default: 'normal' },
    category: { type: 'string', minLength: 1, maxLength: 64, pattern: NO_NUL },
    group_key: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      pattern: NO_NUL,
      description:
        "Groups the in-app message with the recipient's others of the same key: a grouped inbox shows them as one entry, its newest, with their count. Other channels ignore it",
    },
    metadata: { type: 'object', maxProperties: 50 },
    strategy: {
      type: 'string',
      enum: STRATEGIES,
      description: '`any` (default): one primary channel reaching a recipient is enough; `all`: every one must',
    },
    fallback: {
      type: 'object',
      additionalProperties: false,
      required: ['channels', 'after'],
      description: 'Channels tried in order, each only if the one before failed, once the primaries have not done it',
      properties: {
        channels: channelListSchema,
        after: durationSchema('How long to wait after the primaries, e.g. `30s`'),
        unless: {
          type: 'string',
          enum: CONDITIONS,
          default: 'delivered',
          description: 'What a primary reaching the recipient during the wait makes the fallback unnecessary',
        },
      },
    },
    escalation: escalationPolicySchema,
    send_at: {
      type: 'string',
      maxLength: 40,
      pattern: SEND_AT_PATTERN,
      description:
        "An instant (`2026-12-01T09:00:00Z`), or a local time without an offset (`2026-12-01T09:00`) read in each recipient's time zone",
    },
    critical: {
      type: 'boolean',
      default: false,
      description: 'OTP and security alerts: sent past preferences and quiet hours',
    },
  },
} as const;

export const idempotencyHeadersSchema = {
  type: 'object',
  properties: {
    'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 },
  },
} as const;

export const acceptedSchema = {
  type: 'object',
  required: ['notification_id', 'status_url'],
  properties: {
    notification_id: { type: 'string' },
    status_url: { type: 'string' },
  },
} as const;

/** A message as Herald stored it (dev outbox, inbox): the fields both lists share. */
export const storedMessageFields = {
  id: { type: 'integer' },
  notification_id: { type: 'string' },
  subject: { type: 'string' },
  text: { type: 'string' },
  html: { type: 'string' },
  created_at: { type: 'string', format: 'date-time' },
} as const;

export const acknowledgementSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'at', 'via'],
  properties: {
    by: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    via: { type: 'string', enum: ['api', 'link'] },
    channel: { type: 'string', enum: CHANNELS },
    note: { type: 'string' },
  },
} as const;

export const statusSchema = {
  type: 'object',
  required: ['notification_id', 'status', 'created_at', 'deliveries'],
  properties: {
    notification_id: { type: 'string' },
    status: { type: 'string', enum: NOTIFICATION_STATUSES },
    priority: { type: 'string', enum: PRIORITIES },
    category: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['recipient_id', 'channel', 'status', 'attempts'],
        properties: {
          recipient_id: { type: 'string' },
          channel: { type: 'string', enum: CHANNELS },
          status: { type: 'string', enum: DELIVERY_STATUSES },
          provider: { type: 'string' },
          attempts: { type: 'integer' },
          provider_message_id: { type: 'string' },
          error: { type: 'string' },
          providers_tried: {
            type: 'array',
            items: { type: 'string' },
            description: 'Every provider the send went to, in order; the last one is `provider`',
          },
          segments: { type: 'integer', description: 'SMS parts the message cost' },
          encoding: { type: 'string', enum: ['GSM-7', 'UCS-2'] },
          template: { type: 'string', description: 'The template it was rendered from' },
          version: { type: 'integer', description: 'The template version it rendered' },
          locale: { type: 'string', description: 'The locale its text came from' },
          variant: { type: 'string', description: 'The experiment variant the recipient sees' },
          step: { type: 'integer', description: "The plan's step that sent it: 0 for the primaries" },
          kind: { type: 'string', enum: ['primary', 'fallback', 'escalation'] },
        },
      },
    },
    acknowledgement: acknowledgementSchema,
    timeline: {
      type: 'array',
      description: 'What happened, in order: steps sent or skipped, holds, acknowledgement, cancel, retry',
      items: {
        type: 'object',
        required: ['at', 'event'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          event: {
            type: 'string',
            enum: [
              'scheduled',
              'held',
              'step',
              'skipped',
              'suppressed',
              'acknowledged',
              'reopened',
              'reopen-limit',
              'resolved',
              'cancelled',
              'retried',
              'forgotten',
            ],
          },
          recipient_id: { type: 'string' },
          step: { type: 'integer' },
          kind: { type: 'string', enum: ['primary', 'fallback', 'escalation'] },
          channels: { type: 'array', items: { type: 'string', enum: CHANNELS } },
          until: { type: 'string', format: 'date-time' },
          reason: { type: 'string' },
          by: { type: 'string' },
        },
      },
    },
  },
} as const;

export const recipientBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: contactFields,
} as const;

export const recipientSchema = {
  type: 'object',
  required: ['id', 'push_tokens'],
  properties: { id: { type: 'string' }, ...contactFields, updated_at: { type: 'string', format: 'date-time' } },
} as const;

export const receiptBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['provider_message_id', 'status'],
  properties: {
    provider_message_id: { type: 'string', minLength: 1, maxLength: 512, pattern: NO_NUL },
    status: { type: 'string', enum: RECEIPT_STATUSES },
    error: { type: 'string', maxLength: 1024, pattern: NO_NUL },
  },
} as const;

/** In a route's schema, `[OPTIONAL_BODY]: true`: it takes no body as well as one (a preValidation hook makes it `{}`). */
export const OPTIONAL_BODY = 'x-body-optional';
