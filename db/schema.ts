import { sql } from 'drizzle-orm';
import type { BroadcastRequest } from '../domain/broadcast';
import type { Contact, DeliveryDetails, MessageAction, NotificationRequest } from '../domain/notification';
import type { Acknowledgement, EscalationPolicy, TimelineEvent } from '../domain/orchestration';
import type { InboxFeed } from '../domain/inbox';
import type { Preferences } from '../domain/preferences';
import type { TemplateContent } from '../domain/templates/content';
import type {
  ExperimentMetric,
  ExperimentResult,
  ExperimentVariant,
  Guardrails,
} from '../domain/experiments/experiment';
import {
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** Requests per second the tenant's token bucket refills with, and how many it holds; defaults when null. */
  ratePerSecond: integer('rate_per_second'),
  burst: integer('burst'),
  /** Notifications accepted per UTC day; the default when null. */
  dailyQuota: integer('daily_quota'),
  /** Where the webhook channel POSTs, signed with the secret (Standard Webhooks). */
  webhookUrl: text('webhook_url'),
  webhookSecret: text('webhook_secret'),
  /** The locale templates fall back to when neither the recipient's nor its parents have a translation. */
  defaultLocale: text('default_locale'),
  /** Links in rendered templates go through Herald's signed redirect, which counts clicks. */
  clickTracking: boolean('click_tracking').notNull().default(true),
  /** The inbox's tabs: each a name and the categories it shows (all, when it names none). */
  inboxFeeds: jsonb('inbox_feeds')
    .$type<InboxFeed[]>()
    .notNull()
    .default(sql`'[]'::jsonb`),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** API keys: shown once, kept as SHA-256 hashes; `id` is the public part every key starts with. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    hash: text('hash').notNull().unique(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_tenant').on(t.tenantId)],
);

/** Who did what to which notification, and when: the API's own record beside the workflow history. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: serial('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    /** The API key's id, `link` for a signed link, `admin` for the admin token. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    notificationId: text('notification_id'),
    /** What else the action names: a key, a recipient, a schedule, a template version. */
    target: text('target'),
    /** Why, with figures: an experiment's decision. */
    detail: text('detail'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_events_tenant_notification').on(t.tenantId, t.notificationId),
    index('audit_events_tenant_id').on(t.tenantId, t.id),
  ],
);

/** Signatures of inbound webhooks already taken, kept past the timestamp tolerance so a replay is refused. */
export const seenWebhooks = pgTable('seen_webhooks', {
  signature: text('signature').primaryKey(),
  seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Contact profiles that `recipient_ids` resolve to. */
export const recipients = pgTable(
  'recipients',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    email: text('email'),
    phone: text('phone'),
    pushTokens: jsonb('push_tokens')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    locale: text('locale'),
    timezone: text('timezone'),
    telegramChatId: text('telegram_chat_id'),
    slackWebhookUrl: text('slack_webhook_url'),
    discordWebhookUrl: text('discord_webhook_url'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/** Projection of each notification workflow, kept after the workflow closes. */
export const notifications = pgTable(
  'notifications',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    status: text('status').notNull(),
    priority: text('priority').notNull(),
    channels: jsonb('channels').$type<string[]>().notNull(),
    category: text('category'),
    requestHash: text('request_hash').notNull(),
    acknowledgement: jsonb('acknowledgement').$type<Acknowledgement>(),
    /** What happened and who did it: steps, holds, skips, acknowledgement, cancel, retry. */
    timeline: jsonb('timeline').$type<TimelineEvent[]>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/**
 * Notifications and broadcasts accepted and not yet started: each row is written with the notification's
 * or broadcast's own row and deleted once its workflow has started, so what was accepted survives a crash
 * in between.
 */
export const pendingStarts = pgTable(
  'pending_starts',
  {
    workflowId: text('workflow_id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    /** The Herald deployment's task queue: only its dispatchers start it. */
    taskQueue: text('task_queue').notNull(),
    /** Temporal's priority key: lower starts first. */
    priority: integer('priority').notNull(),
    /** The workflow type to start: `notification`, or `broadcastWorkflow` for a broadcast. */
    workflowType: text('workflow_type').notNull().default('notification'),
    /** The workflow's input: a NotificationRequest, or a BroadcastRequest for a broadcast. */
    request: jsonb('request').$type<NotificationRequest | BroadcastRequest>().notNull(),
    /** The accepting request's trace (W3C headers), which the workflow start joins. */
    trace: jsonb('trace').$type<Record<string, string>>(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }).notNull().defaultNow(),
    /** A dispatcher is starting it until then; past it, any dispatcher may. */
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
  },
  (t) => [index('pending_starts_order').on(t.taskQueue, t.priority, t.acceptedAt)],
);

/**
 * A message to a large audience: its recipients wait here in chunks, one per child workflow, so the
 * workflow inputs stay small. Deliveries are recorded under the broadcast's id.
 */
export const broadcasts = pgTable(
  'broadcasts',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    status: text('status').notNull(),
    priority: text('priority').notNull(),
    channels: jsonb('channels').$type<string[]>().notNull(),
    category: text('category'),
    requestHash: text('request_hash').notNull(),
    recipientCount: integer('recipient_count').notNull(),
    chunkCount: integer('chunk_count').notNull(),
    /** Set when the broadcast ends; while it runs its workflow counts. */
    chunksCompleted: integer('chunks_completed').notNull().default(0),
    chunksFailed: integer('chunks_failed').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export const broadcastChunks = pgTable(
  'broadcast_chunks',
  {
    tenantId: text('tenant_id').notNull(),
    broadcastId: text('broadcast_id').notNull(),
    chunk: integer('chunk').notNull(),
    recipients: jsonb('recipients').$type<Contact[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.broadcastId, t.chunk] })],
);

export const deliveries = pgTable(
  'deliveries',
  {
    tenantId: text('tenant_id').notNull(),
    notificationId: text('notification_id').notNull(),
    recipientId: text('recipient_id').notNull(),
    channel: text('channel').notNull(),
    /** The plan's step that sent it: 0 for the primaries; fallback and escalation steps follow. */
    step: integer('step').notNull().default(0),
    status: text('status').notNull(),
    provider: text('provider'),
    attempts: integer('attempts').notNull().default(0),
    providerMessageId: text('provider_message_id'),
    error: text('error'),
    providersTried: jsonb('providers_tried').$type<string[]>(),
    details: jsonb('details').$type<DeliveryDetails>(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.notificationId, t.recipientId, t.channel, t.step] }),
    uniqueIndex('deliveries_provider_message_id').on(t.providerMessageId),
    index('deliveries_tenant_channel_status').on(t.tenantId, t.channel, t.status),
  ],
);

/** Where every channel delivers when no real provider is configured. */
export const devOutbox = pgTable(
  'dev_outbox',
  {
    id: serial('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    notificationId: text('notification_id').notNull(),
    /** One send of one delivery: a retried send finds its row instead of writing another. */
    deliveryKey: text('delivery_key').notNull().unique(),
    channel: text('channel').notNull(),
    recipient: text('recipient').notNull(),
    subject: text('subject'),
    text: text('text').notNull(),
    html: text('html'),
    /** What the channel would have sent beyond the text: SMS segments, push payload, chat buttons. */
    details: jsonb('details').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('dev_outbox_tenant_created').on(t.tenantId, t.createdAt)],
);

/** The in-app channel's messages, kept for each recipient's inbox. */
export const inboxMessages = pgTable(
  'inbox_messages',
  {
    id: serial('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    recipientId: text('recipient_id').notNull(),
    notificationId: text('notification_id').notNull(),
    /** One delivery, one row: a retried send finds its row instead of writing another. */
    deliveryKey: text('delivery_key').notNull().unique(),
    category: text('category'),
    /** The notification's `group_key`: a grouped inbox shows a group's messages as one entry. */
    groupKey: text('group_key'),
    subject: text('subject'),
    text: text('text').notNull(),
    html: text('html'),
    actions: jsonb('actions')
      .$type<MessageAction[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** The recipient's states, each when it began: seen in a list, read (opened), archived, snoozed until. */
    seenAt: timestamp('seen_at', { withTimezone: true }),
    readAt: timestamp('read_at', { withTimezone: true }),
    /** When one of its action buttons was first used. */
    interactedAt: timestamp('interacted_at', { withTimezone: true }),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    snoozedUntil: timestamp('snoozed_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('inbox_messages_recipient').on(t.tenantId, t.recipientId, t.id),
    // The feed's order and its pages' keys.
    index('inbox_messages_feed').on(t.tenantId, t.recipientId, t.createdAt, t.id),
    // A group's messages, newest first: its expansion, and its count in a grouped feed.
    index('inbox_messages_group')
      .on(t.tenantId, t.recipientId, t.groupKey, t.createdAt, t.id)
      .where(sql`${t.groupKey} is not null`),
    // The snoozed messages, for waking them when their time comes.
    index('inbox_messages_snoozed')
      .on(t.snoozedUntil)
      .where(sql`${t.snoozedUntil} is not null`),
  ],
);

/**
 * What happened to each recipient's inbox, in order: the log a live inbox resumes from. Written by the
 * database itself (triggers on inbox_messages, migration 0013), so no write path can leave an event out;
 * each event is announced on the `herald_inbox` channel by its id alone. Kept for a day.
 */
export const inboxEvents = pgTable(
  'inbox_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: text('tenant_id').notNull(),
    recipientId: text('recipient_id').notNull(),
    /** `added`, `changed` or `deleted`. */
    kind: text('kind').notNull(),
    messageIds: integer('message_ids').array().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('inbox_events_recipient').on(t.tenantId, t.recipientId, t.id), index('inbox_events_at').on(t.at)],
);

/** Each recipient's preferences; `version` makes every change conditional on the one it read. */
export const preferences = pgTable(
  'preferences',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    recipientId: text('recipient_id').notNull(),
    preferences: jsonb('preferences').$type<Preferences>().notNull(),
    version: integer('version').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.recipientId] })],
);

/** Escalation policies by category: a notification of the category without its own policy uses it. */
export const escalationPolicies = pgTable(
  'escalation_policies',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    category: text('category').notNull(),
    policy: jsonb('policy').$type<EscalationPolicy>().notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.category] })],
);

/** Secrets Herald makes for itself when none is configured, such as the key that signs links. */
export const heraldSecrets = pgTable('herald_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

/** Templates by key; `liveVersion` is the version notifications accepted now render. */
export const templates = pgTable(
  'templates',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    liveVersion: integer('live_version'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** Deleted templates keep their versions: notifications accepted before still render them. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] })],
);

/** Each content a template was saved with, never changed: the same content saved twice is one version. */
export const templateVersions = pgTable(
  'template_versions',
  {
    tenantId: text('tenant_id').notNull(),
    key: text('key').notNull(),
    version: integer('version').notNull(),
    contentHash: text('content_hash').notNull(),
    content: jsonb('content').$type<TemplateContent>().notNull(),
    /** The email's MJML compiled once, with its Liquid left in for each send to render. */
    compiledEmailHtml: text('compiled_email_html'),
    /** Layouts and partials it names; pinned with it at accept. */
    references: jsonb('references').$type<string[]>().notNull(),
    missingTranslations: jsonb('missing_translations').$type<Record<string, string[]>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.key, t.version] }),
    uniqueIndex('template_versions_content').on(t.tenantId, t.key, t.contentHash),
  ],
);

/** A/B experiments on a template's versions; the last evaluation is kept with them. */
export const experiments = pgTable(
  'experiments',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    templateKey: text('template_key').notNull(),
    variants: jsonb('variants').$type<ExperimentVariant[]>().notNull(),
    metric: text('metric').$type<ExperimentMetric>().notNull(),
    alpha: doublePrecision('alpha').notNull(),
    /** The relative lift the test is tuned to find (its mixing scale τ follows from it and the control's rate). */
    expectedLift: doublePrecision('expected_lift'),
    minSamples: integer('min_samples').notNull(),
    minDurationSeconds: integer('min_duration_seconds').notNull(),
    maxDurationSeconds: integer('max_duration_seconds'),
    guardrails: jsonb('guardrails').$type<Guardrails>(),
    /** running, winner, no_winner, stopped */
    state: text('state').notNull(),
    result: jsonb('result').$type<ExperimentResult>(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    index('experiments_tenant_template').on(t.tenantId, t.templateKey),
    uniqueIndex('experiments_one_running')
      .on(t.tenantId, t.templateKey)
      .where(sql`state = 'running'`),
  ],
);

/** Who saw which variant: written at first exposure, so a change of weights never moves anyone. */
export const experimentExposures = pgTable(
  'experiment_exposures',
  {
    tenantId: text('tenant_id').notNull(),
    experimentId: text('experiment_id').notNull(),
    recipientId: text('recipient_id').notNull(),
    variant: text('variant').notNull(),
    exposedAt: timestamp('exposed_at', { withTimezone: true }).notNull().defaultNow(),
    /** When the experiment's metric first happened for this recipient. */
    convertedAt: timestamp('converted_at', { withTimezone: true }),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.experimentId, t.recipientId] }),
    index('experiment_exposures_variant').on(t.experimentId, t.variant),
  ],
);

/**
 * Links in templated messages, each sent as Herald's redirect `/r/<id>`: the id is short (SMS pays per
 * character) and cannot be guessed, and the URL comes from here, never from the request.
 */
export const trackedLinks = pgTable(
  'tracked_links',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    notificationId: text('notification_id').notNull(),
    recipientId: text('recipient_id').notNull(),
    channel: text('channel').notNull(),
    step: integer('step').notNull().default(0),
    url: text('url').notNull(),
    experimentId: text('experiment_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The first click: only it becomes the delivery's `clicked` receipt. */
    clickedAt: timestamp('clicked_at', { withTimezone: true }),
  },
  (t) => [index('tracked_links_notification').on(t.tenantId, t.notificationId)],
);

/**
 * When a recipient's inbox tokens stopped being good: tokens issued before are refused (the recipient
 * was deleted). Kept only as long as a token lives, and by the id's hash, not the id.
 */
export const inboxTokenRevocations = pgTable(
  'inbox_token_revocations',
  {
    tenantId: text('tenant_id').notNull(),
    /** The recipient's id hashed: a deleted recipient's id is not kept. */
    recipientHash: text('recipient_hash').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.recipientHash] })],
);
