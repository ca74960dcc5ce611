import type { WorkflowStartOptions } from '@temporalio/client';
import stringify from 'safe-stable-stringify';
import type { Database } from '../db/connect';
import { findEscalationPolicy } from '../db/escalation-policies';
import { findWebhookEndpoint } from '../db/tenants';
import { findRecipients } from '../db/recipients';
import { addressFieldsFor, reachableOn } from '../domain/channel-addresses';
import { TEXT_LIMITS, type Channel } from '../domain/channels';
import { laneTaskQueue, PRIORITY_KEYS } from '../domain/delivery-policy';
import { localTimeToInstant } from '../domain/local-time';
import { recipientPlan } from '../domain/recipient-plan';
import { sha256 } from '../domain/sha256';
import { readManyPreferences } from '../db/preferences';
import { pseudonymKey } from '../db/recipient-pseudonyms';
import { inTenant } from '../db/tenant-scope';
import { PSEUDONYM_PREFIX, pseudonymOf } from '../domain/recipient-pseudonym';
import type { Contact, Message, NotificationRequest, Priority } from '../domain/notification';
import type { Preferences } from '../domain/preferences';
import { durationMs, type Condition, type EscalationPolicy, type Strategy } from '../domain/orchestration';
import { recipientsAttribute, searchAttributes } from '../workflows/definitions';
import type { notification } from '../workflows';
import { recipientFields } from './recipient-fields';
import { rejectOversizedPlan } from './plan-limits';
import { Problem } from './problems';
import { templatedMessage } from './templated-message';
import { MAX_RECIPIENTS } from './schemas';

type InlineRecipient = {
  id?: string;
  email?: string;
  phone?: string;
  push_tokens?: string[];
  locale?: string;
  timezone?: string;
  telegram_chat_id?: string;
  slack_webhook_url?: string;
  discord_webhook_url?: string;
};

export interface EscalationBody {
  steps: readonly { after: string; channels: readonly string[]; unless?: string }[];
  repeat?: number;
  ack_timeout?: string;
}

/** A notify request's body as its schema has validated it. */
export interface NotifyBody {
  channels: readonly string[];
  recipient_ids?: readonly string[];
  recipients?: readonly InlineRecipient[];
  message?: string | Message;
  template?: string;
  data?: unknown;
  locale?: string;
  priority?: Priority;
  category?: string;
  group_key?: string;
  metadata?: unknown;
  strategy?: Strategy;
  fallback?: { channels: readonly string[]; after: string; unless?: string };
  escalation?: EscalationBody;
  send_at?: string;
  critical?: boolean;
}

export interface RequestSettings {
  receiptWindowMs: number;
  retryWindowMs: number;
  /** Read recipients' preferences now for a notification sent at once (not for schedules: they run later). */
  plansAtAccept?: boolean;
  /** Reads stored preferences; concurrent requests may share one query. One query per request without it. */
  preferencesOf?: (tenantId: string, recipientIds: string[]) => Promise<Map<string, Preferences>>;
}

/** The fingerprint of a request body: the same body, in any key order, hashes the same. */
export function requestHashOf(body: unknown): string {
  return sha256(stringify(body) ?? '');
}

/**
 * Everything the workflow needs, resolved now: recipients, the escalation policy of the category, and
 * each recipient's send time. Anything wrong is refused here, naming the field, before a workflow starts.
 */
export async function buildNotificationRequest(
  db: Database,
  tenantId: string,
  body: NotifyBody,
  ids: { notificationId: string; requestHash: string; createdAt: string },
  settings: RequestSettings,
): Promise<NotificationRequest> {
  const channels = body.channels as Channel[];
  const message = body.message === undefined ? undefined : toMessage(body.message);
  if ((message === undefined) === (body.template === undefined))
    throw new Problem(
      422,
      'Message or template',
      message ? 'Give a message or a template, not both' : 'Give the message to send, or a template to render it from',
      message ? 'template' : 'message',
    );
  const fallback = body.fallback
    ? {
        channels: body.fallback.channels as Channel[],
        afterMs: durationMs(body.fallback.after),
        unless: (body.fallback.unless ?? 'delivered') as Condition,
      }
    : undefined;
  const inline = await inlineContacts(db, body.recipients ?? []);
  // What the request reads of the tenant's rows it reads in one transaction under the tenant's row
  // security; a request naming its recipients inline, with its message, reads none.
  const named = [
    ...channels,
    ...(fallback?.channels ?? []),
    ...(body.escalation?.steps.flatMap((s) => s.channels) ?? []),
  ];
  const readsTenant =
    (body.category !== undefined && !body.escalation) ||
    body.recipient_ids !== undefined ||
    named.includes('webhook') ||
    message === undefined;
  const resolve = async (tx: Database) => {
    const escalation = body.escalation
      ? toEscalationPolicy(body.escalation)
      : body.category
        ? await findEscalationPolicy(tx, tenantId, body.category)
        : undefined;
    const everyChannel = [
      ...channels,
      ...(fallback?.channels ?? []),
      ...(escalation?.steps.flatMap((s) => s.channels) ?? []),
    ];
    if (message) rejectTooLong(message, everyChannel);
    const stored = body.recipient_ids ? await resolveRecipients(tx, tenantId, body.recipient_ids) : [];
    const contacts = withoutRepeats([...stored, ...inline]);
    rejectOversizedPlan(
      { recipients: contacts.length, channels: channels.length, fallback, escalation },
      body.recipients ? 'recipients' : 'recipient_ids',
    );
    rejectUnreachable(stored, 'recipient_ids', everyChannel);
    rejectUnreachable(inline, 'recipients', everyChannel);
    if (everyChannel.includes('webhook')) await rejectWebhookWithoutEndpoint(tx, tenantId, body);
    const rendered =
      message ??
      (await templatedMessage(tx, tenantId, {
        key: body.template!,
        data: (body.data ?? {}) as Record<string, unknown>,
        locale: body.locale,
        channels: everyChannel,
        recipients: contacts,
        // Recipients given without an id have no identity to keep a variant for: they see the control.
        identified: contacts.filter((c) => !inline.some((d, i) => d === c && body.recipients![i]!.id === undefined)),
      }));
    return { escalation, contacts, message: rendered };
  };
  const {
    escalation,
    contacts,
    message: resolved,
  } = readsTenant ? await inTenant(db, tenantId, resolve) : await resolve(db);
  return {
    notificationId: ids.notificationId,
    tenantId,
    channels,
    recipients: contacts,
    message: body.group_key === undefined ? resolved : { ...resolved, groupKey: body.group_key },
    priority: body.priority ?? 'normal',
    category: body.category,
    metadata: body.metadata as Record<string, unknown> | undefined,
    requestHash: ids.requestHash,
    createdAt: ids.createdAt,
    receiptWindowMs: settings.receiptWindowMs,
    retryWindowMs: settings.retryWindowMs,
    boundedHistory: true,
    ...(body.strategy ? { strategy: body.strategy } : {}),
    ...(fallback ? { fallback } : {}),
    ...(escalation ? { escalation } : {}),
    ...(body.critical ? { critical: true } : {}),
    ...sendTimes(body.send_at, contacts),
    ...(settings.plansAtAccept !== false && !body.critical && !body.send_at
      ? {
          recipientPlans: await plansNow(
            settings.preferencesOf ?? ((tenant, ids) => readManyPreferences(db, tenant, ids)),
            tenantId,
            contacts,
            body.category,
          ),
        }
      : {}),
  };
}

/** The preferences of every recipient who has some, as they stand now, in one query. */
async function plansNow(
  preferencesOf: NonNullable<RequestSettings['preferencesOf']>,
  tenantId: string,
  contacts: Contact[],
  category: string | undefined,
) {
  const stored = await preferencesOf(
    tenantId,
    contacts.map((c) => c.id),
  );
  const now = new Date();
  return Object.fromEntries(
    contacts
      .filter((c) => stored.has(c.id))
      .map((c) => [c.id, recipientPlan(stored.get(c.id)!, category, c.timezone, now)]),
  );
}

/** How the API starts a notification's workflow: its queue, priority and the search attributes operators filter by. */
export function workflowStartOptions(
  input: NotificationRequest,
  taskQueue: string,
): Pick<WorkflowStartOptions<typeof notification>, 'taskQueue' | 'priority' | 'typedSearchAttributes'> {
  return {
    taskQueue: laneTaskQueue(taskQueue, input.priority),
    priority: { priorityKey: PRIORITY_KEYS[input.priority] },
    typedSearchAttributes: [
      { key: searchAttributes.tenant, value: input.tenantId },
      { key: searchAttributes.status, value: 'accepted' },
      { key: searchAttributes.channels, value: input.channels },
      { key: searchAttributes.priority, value: input.priority },
      { key: searchAttributes.recipients, value: recipientsAttribute(input.recipients.map((r) => r.id)) },
    ],
  };
}

export function toEscalationPolicy(body: EscalationBody): EscalationPolicy {
  return {
    steps: body.steps.map((s) => ({
      afterMs: durationMs(s.after),
      channels: s.channels as Channel[],
      unless: (s.unless ?? 'acknowledged') as Condition,
    })),
    repeat: body.repeat ?? 0,
    ...(body.ack_timeout ? { ackTimeoutMs: durationMs(body.ack_timeout) } : {}),
  };
}

const HAS_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/** An instant is the same for everyone; a local time is read in each recipient's time zone (UTC without one). */
function sendTimes(sendAt: string | undefined, contacts: Contact[]) {
  if (!sendAt) return {};
  const invalid = () =>
    new Problem(422, 'Invalid send time', `send_at "${sendAt}" is not a real date and time`, 'send_at');
  if (HAS_OFFSET.test(sendAt)) {
    const instant = Date.parse(sendAt);
    if (Number.isNaN(instant)) throw invalid();
    return { sendAt: new Date(instant).toISOString() };
  }
  try {
    return {
      recipientSendAt: Object.fromEntries(
        contacts.map((c) => [c.id, localTimeToInstant(sendAt, c.timezone ?? 'UTC').toISOString()]),
      ),
    };
  } catch {
    throw invalid();
  }
}

/** A text longer than a chosen channel carries is refused now, naming the channel, not failed later. */
export function rejectTooLong(message: Message, channels: Channel[]): void {
  for (const channel of new Set(channels)) {
    const limit = TEXT_LIMITS[channel];
    // Providers count UTF-16 units (an emoji is two, as in an SMS part); the caller counts characters.
    const units = message.text.length;
    if (limit !== undefined && units > limit) {
      const characters = [...message.text].length;
      const size =
        characters === units
          ? `${characters} characters`
          : `${characters} characters, ${units} as ${channel} counts them (an emoji or other character beyond U+FFFF counts twice)`;
      throw new Problem(
        422,
        'Message too long for a channel',
        `The text is ${size}; ${channel} carries at most ${limit}: shorten it by ${units - limit}, or leave ${channel} out`,
        'message.text',
      );
    }
  }
}

/**
 * A recipient none of the notification's channels can reach (primaries, fallback and escalation alike)
 * would only ever fail: refused now, naming it and the fields that would reach it.
 */
function rejectUnreachable(contacts: Contact[], list: 'recipients' | 'recipient_ids', channels: Channel[]): void {
  const index = contacts.findIndex((c) => !channels.some((channel) => reachableOn(c, channel)));
  if (index < 0) return;
  const unique = [...new Set(channels)];
  const fields = addressFieldsFor(unique).join(' or ');
  const what = list === 'recipients' ? 'This recipient' : `The stored recipient "${contacts[index]!.id}"`;
  throw new Problem(
    422,
    'Recipient unreachable',
    `${what} has no address for any of the channels ${unique.join(', ')}: give it ${fields}, or add a channel it has, such as in_app`,
    `${list}[${index}]`,
  );
}

/** The webhook channel posts to the tenant's endpoint: without one set, every delivery would fail. */
async function rejectWebhookWithoutEndpoint(db: Database, tenantId: string, body: NotifyBody): Promise<void> {
  if ((await findWebhookEndpoint(db, tenantId))?.url) return;
  const field = body.channels.includes('webhook')
    ? `channels[${body.channels.indexOf('webhook')}]`
    : body.fallback?.channels.includes('webhook')
      ? 'fallback.channels'
      : body.escalation
        ? 'escalation'
        : 'category';
  throw new Problem(
    422,
    'No webhook endpoint',
    "The webhook channel posts to the tenant's endpoint, and none is set: set it with PUT /settings/webhook first",
    field,
  );
}

export function toMessage(message: string | Message): Message {
  return typeof message === 'string' ? { text: message } : message;
}

function toContact(id: string, r: InlineRecipient): Contact {
  return {
    id,
    email: r.email,
    phone: r.phone,
    pushTokens: r.push_tokens,
    locale: r.locale,
    timezone: r.timezone,
    telegramChatId: r.telegram_chat_id,
    slackWebhookUrl: r.slack_webhook_url,
    discordWebhookUrl: r.discord_webhook_url,
  };
}

const needsPseudonym = (r: InlineRecipient) => r.id === undefined && (r.email ?? r.phone) !== undefined;

/**
 * Inline recipients as contacts. One without an id is known by a pseudonym of its email or phone
 * (`pseudonymKey`), never by the address: ids reach logs, search attributes and the links messages carry.
 */
export async function inlineContacts(db: Database, list: readonly InlineRecipient[]): Promise<Contact[]> {
  const key = list.some(needsPseudonym) ? await pseudonymKey(db) : undefined;
  return list.map((r, i) => {
    const address = r.email ?? r.phone;
    const id = r.id ?? (key !== undefined && address !== undefined ? pseudonymOf(key, address) : `recipient-${i + 1}`);
    return toContact(id, r);
  });
}

/**
 * One delivery per recipient and channel: a recipient named twice (by id and inline, or two inline
 * entries with one address) is refused, naming the second mention.
 */
export function withoutRepeats(contacts: Contact[], max = MAX_RECIPIENTS): Contact[] {
  if (contacts.length > max)
    throw new Problem(422, 'Too many recipients', `At most ${max} recipients in one request`, 'recipients');
  const seen = new Set<string>();
  for (const contact of contacts) {
    if (seen.has(contact.id)) {
      const detail = contact.id.startsWith(PSEUDONYM_PREFIX)
        ? 'Two inline recipients without an id have the same address'
        : `The recipient "${contact.id}" is named twice`;
      throw new Problem(422, 'Recipient repeated', detail, 'recipients');
    }
    seen.add(contact.id);
  }
  return contacts;
}

async function resolveRecipients(db: Database, tenantId: string, ids: readonly string[]): Promise<Contact[]> {
  const rows = await findRecipients(db, tenantId, ids);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id, i) => {
    const row = byId.get(id);
    if (!row) {
      throw new Problem(
        422,
        'Unknown recipient',
        `recipient_ids[${i}] names no recipient: create it with PUT /recipients/${id}`,
        `recipient_ids[${i}]`,
      );
    }
    return toContact(id, recipientFields(row));
  });
}
