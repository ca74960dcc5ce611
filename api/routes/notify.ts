import { createHash, randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import stringify from 'safe-stable-stringify';
import type { Database } from '../../db/connect';
import { notifications, recipients as recipientsTable } from '../../db/schema';
import { recipientFields } from './recipients';
import { TEXT_LIMITS, type Channel } from '../../domain/channels';
import { PRIORITY_KEYS } from '../../domain/delivery-policy';
import type { Contact, Message, NotificationRequest, Priority } from '../../domain/notification';
import { notificationWorkflowId, searchAttributes } from '../../workflows/definitions';
import type { notificationWorkflow } from '../../workflows';
import { notificationsAccepted } from '../../observability/metrics';
import { Problem } from '../problems';
import {
  acceptedSchema,
  BODY_PROBLEMS,
  idempotencyHeadersSchema,
  MAX_RECIPIENTS,
  notifyBodySchema,
  problems,
} from '../schemas';
import type { ApiContext } from '../context';

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

export const notifyRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.post(
    '/notify',
    {
      schema: {
        summary: 'Accept a notification for delivery',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        body: notifyBodySchema,
        response: { 202: acceptedSchema, ...problems(...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const tenantId = request.tenantId;
      const idempotencyKey = request.headers['idempotency-key'];
      const requestHash = sha256(stringify(body) ?? '');
      const notificationId = idempotencyKey ? idFromKey(tenantId, idempotencyKey) : randomUUID();
      const accepted = () =>
        reply.code(202).send({ notification_id: notificationId, status_url: `/status/${notificationId}` });
      const channels = body.channels as Channel[];
      const message = toMessage(body.message);
      rejectTooLong(message, channels);

      if (idempotencyKey) {
        const [seen] = await ctx.db
          .select({ requestHash: notifications.requestHash })
          .from(notifications)
          .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, notificationId)));
        if (seen) return sameRequestOr409(seen.requestHash, requestHash, accepted);
      }

      const contacts = withoutRepeats([
        ...(body.recipient_ids ? await resolveRecipients(ctx.db, tenantId, body.recipient_ids) : []),
        ...inlineRecipients(body.recipients ?? []),
      ]);
      const priority: Priority = body.priority ?? 'normal';
      const input: NotificationRequest = {
        notificationId,
        tenantId,
        channels,
        recipients: contacts,
        message,
        priority,
        category: body.category,
        metadata: body.metadata as Record<string, unknown> | undefined,
        requestHash,
        createdAt: new Date().toISOString(),
        receiptWindowMs: ctx.receiptWindowMs,
      };

      try {
        await ctx.temporal.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
          taskQueue: ctx.taskQueue,
          workflowId: notificationWorkflowId(tenantId, notificationId),
          args: [input],
          // A closed workflow keeps its id: a replay of the same key must not deliver again.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          memo: { requestHash },
          priority: { priorityKey: PRIORITY_KEYS[priority] },
          typedSearchAttributes: [
            { key: searchAttributes.tenant, value: tenantId },
            { key: searchAttributes.status, value: 'accepted' },
            { key: searchAttributes.channels, value: channels },
            { key: searchAttributes.priority, value: priority },
          ],
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !idempotencyKey) throw error;
        const description = await ctx.temporal.workflow
          .getHandle(notificationWorkflowId(tenantId, notificationId))
          .describe();
        return sameRequestOr409(String(description.memo?.requestHash), requestHash, accepted);
      }
      notificationsAccepted.inc({ priority });
      request.log.info(
        { notification_id: notificationId, workflow_id: notificationWorkflowId(tenantId, notificationId), priority },
        'notification accepted',
      );
      return accepted();
    },
  );
};

function sameRequestOr409<T>(storedHash: string, requestHash: string, accepted: () => T): T {
  if (storedHash !== requestHash) {
    throw new Problem(
      409,
      'Idempotency key reused',
      'This Idempotency-Key was already used with a different request body',
      'idempotency-key',
    );
  }
  return accepted();
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The same tenant and key always name the same notification, formatted as a UUID. */
function idFromKey(tenantId: string, key: string): string {
  const h = sha256(`${tenantId}\u0000${key}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A text longer than a chosen channel carries is refused now, naming the channel, not failed later. */
function rejectTooLong(message: Message, channels: Channel[]): void {
  for (const channel of channels) {
    const limit = TEXT_LIMITS[channel];
    if (limit !== undefined && message.text.length > limit) {
      throw new Problem(
        422,
        'Message too long for a channel',
        `The text is ${message.text.length} characters; ${channel} carries at most ${limit}`,
        'message.text',
      );
    }
  }
}

function toMessage(message: string | Message): Message {
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

function inlineRecipients(list: InlineRecipient[]): Contact[] {
  return list.map((r, i) => toContact(r.id ?? r.email ?? r.phone ?? `recipient-${i + 1}`, r));
}

/**
 * One delivery per recipient and channel: a recipient named twice (by id and inline, or two inline
 * entries with one address) is refused, naming the second mention.
 */
function withoutRepeats(contacts: Contact[]): Contact[] {
  if (contacts.length > MAX_RECIPIENTS)
    throw new Problem(422, 'Too many recipients', `At most ${MAX_RECIPIENTS} recipients in one request`, 'recipients');
  const seen = new Set<string>();
  for (const contact of contacts) {
    if (seen.has(contact.id))
      throw new Problem(422, 'Recipient repeated', `The recipient "${contact.id}" is named twice`, 'recipients');
    seen.add(contact.id);
  }
  return contacts;
}

async function resolveRecipients(db: Database, tenantId: string, ids: string[]): Promise<Contact[]> {
  const rows = await db
    .select()
    .from(recipientsTable)
    .where(and(eq(recipientsTable.tenantId, tenantId), inArray(recipientsTable.id, ids)));
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
