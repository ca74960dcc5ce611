import { setMaxListeners } from 'node:events';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/connect';
import { recordedDeliveries } from '../db/deliveries';
import { readManyPreferences } from '../db/preferences';
import { inTenant } from '../db/tenant-scope';
import { broadcastChunks, broadcasts } from '../db/schema';
import type { BroadcastStatus, ChunkOutcome, ChunkSend } from '../domain/broadcast';
import { SENDS_IN_FLIGHT } from '../domain/delivery-policy';
import { hasSucceeded, type Contact, type Delivery, type DeliveryStatus } from '../domain/notification';
import { pool } from '../domain/pool';
import { recipientPlan } from '../domain/recipient-plan';
import type { DeliverAttempt, DeliverInput } from './deliver';
import { sendWithFailover } from './deliver-batch';
import { upsertDeliveries } from './record';

/**
 * One channel of one broadcast chunk. A pass skips recipients the record shows settled, so a retried
 * or resumed chunk sends to each recipient once; failures a later try may heal fail the activity,
 * whose retries (the same schedule as a single send's) take only those again.
 */
export function createBroadcastActivities(db: Database, deliverAttempt: DeliverAttempt) {
  async function sendBroadcastChunk(send: ChunkSend): Promise<ChunkOutcome> {
    const context = Context.current();
    // Every send in flight listens for the activity's cancellation, a few times (its wait, its provider's session).
    setMaxListeners(SENDS_IN_FLIGHT * 4, context.cancellationSignal);
    const [row] = await db
      .select({ recipients: broadcastChunks.recipients })
      .from(broadcastChunks)
      .where(
        and(
          eq(broadcastChunks.tenantId, send.tenantId),
          eq(broadcastChunks.broadcastId, send.broadcastId),
          eq(broadcastChunks.chunk, send.chunk),
        ),
      );
    if (!row) throw ApplicationFailure.nonRetryable(`Broadcast ${send.broadcastId} has no chunk ${send.chunk}`);
    const contacts = row.recipients;
    const settled = await settledStatuses(db, send, contacts);
    const outcome: ChunkOutcome = { sent: 0, failed: 0, suppressed: 0 };
    const tally = (status: DeliveryStatus) => {
      if (hasSucceeded({ status })) outcome.sent++;
      else if (status === 'suppressed') outcome.suppressed++;
      else outcome.failed++;
    };
    settled.forEach(tally);

    const todo = contacts.filter((c) => !settled.has(c.id));
    const stored = send.critical
      ? new Map()
      : await inTenant(db, send.tenantId, (tx) =>
          readManyPreferences(
            tx,
            send.tenantId,
            todo.map((c) => c.id),
          ),
        );
    const records: Delivery[] = [];
    const ready: Contact[] = [];
    const held: string[] = [];
    for (const contact of todo) {
      const preferences = stored.get(contact.id);
      const plan = preferences && recipientPlan(preferences, send.category, contact.timezone, new Date(send.at));
      if (plan?.blockedChannels.includes(send.channel))
        records.push({ recipientId: contact.id, channel: send.channel, status: 'suppressed', attempts: 0 });
      else if (plan?.quietUntil) held.push(plan.quietUntil);
      else ready.push(contact);
    }

    // Each send's own tries, carried from pass to pass in the heartbeat: the chunk's attempt number
    // also counts passes a killed worker cut short, and would fail a send for good at its first try.
    const tries = triesSoFar(context.info.heartbeatDetails);
    let retrying = 0;
    let retryAfterMs = 0;
    try {
      await pool(ready.length, SENDS_IN_FLIGHT, async (i) => {
        const contact = ready[i]!;
        const attempt = (tries[contact.id] ?? 0) + 1;
        const record = await sendToRecipient(deliverAttempt, send, contact, attempt, context.cancellationSignal);
        if ('retryAfterMs' in record) {
          tries[contact.id] = attempt;
          retrying++;
          retryAfterMs = Math.max(retryAfterMs, record.retryAfterMs);
        } else records.push(record);
        context.heartbeat({ sent: records.length, tries } satisfies ChunkProgress);
      });
    } finally {
      // Each send writes its provider id at once, but only as best effort: the whole pass is written
      // here too, so the next pass skips every send that went, and failures and suppressions join it.
      await upsertDeliveries(db, send.tenantId, send.broadcastId, records);
    }
    records.forEach((r) => tally(r.status));
    // The next pass waits for the latest of what the failed sends were told (a provider's Retry-After, an
    // open circuit's trial), so none spends a try before its provider may take it.
    if (retrying > 0)
      throw ApplicationFailure.create({
        message: `${retrying} sends of chunk ${send.chunk} failed for now`,
        type: 'BroadcastRetry',
        nextRetryDelay: retryAfterMs,
      });
    return held.length > 0 ? { ...outcome, heldUntil: held.sort()[0] } : outcome;
  }

  /** The broadcast's end: its status on record, and its recipients' contact details no longer kept. */
  async function finishBroadcast(input: {
    tenantId: string;
    broadcastId: string;
    status: BroadcastStatus;
    chunksCompleted: number;
    chunksFailed: number;
  }) {
    await db.transaction(async (tx) => {
      await tx
        .update(broadcasts)
        .set({
          status: input.status,
          chunksCompleted: input.chunksCompleted,
          chunksFailed: input.chunksFailed,
          updatedAt: new Date(),
        })
        .where(and(eq(broadcasts.tenantId, input.tenantId), eq(broadcasts.id, input.broadcastId)));
      await tx
        .delete(broadcastChunks)
        .where(and(eq(broadcastChunks.tenantId, input.tenantId), eq(broadcastChunks.broadcastId, input.broadcastId)));
    });
  }

  return { sendBroadcastChunk, finishBroadcast };
}

/** What a chunk's pass reports as it goes: sends settled, and the tries of each send that failed for now. */
interface ChunkProgress {
  sent: number;
  tries: Record<string, number>;
}

/** The failed tries of each send in the passes before this one (none from a pass that reported a bare count). */
function triesSoFar(details: unknown): Record<string, number> {
  const tries = (details as Partial<ChunkProgress> | undefined)?.tries;
  return tries && typeof tries === 'object' ? { ...tries } : {};
}

/** The chunk's deliveries on this channel that an earlier pass settled. */
async function settledStatuses(db: Database, send: ChunkSend, contacts: Contact[]) {
  const key = { tenantId: send.tenantId, notificationId: send.broadcastId, channel: send.channel };
  const rows = await recordedDeliveries(
    db,
    key,
    contacts.map((c) => c.id),
  );
  return new Map(rows.filter((r) => r.step === 0).map((r) => [r.recipientId, r.status as DeliveryStatus]));
}

/**
 * One recipient through the channel's providers; when the failure may heal, how long to wait before the
 * chunk's next pass sends it again.
 */
async function sendToRecipient(
  deliverAttempt: DeliverAttempt,
  send: ChunkSend,
  recipient: Contact,
  attempt: number,
  signal: AbortSignal,
): Promise<Delivery | { retryAfterMs: number }> {
  const input: DeliverInput = {
    tenantId: send.tenantId,
    notificationId: send.broadcastId,
    channel: send.channel,
    recipient,
    message: send.message,
    category: send.category,
    priority: send.priority,
    acceptedAt: send.createdAt,
    providerIndex: 0,
    unsubscribable: !send.critical,
  };
  const outcome = await sendWithFailover(deliverAttempt, input, { attempt, freshAfterFailover: false, signal });
  if (outcome.retry) return { retryAfterMs: outcome.retry.afterMs };
  const delivery = { recipientId: recipient.id, channel: send.channel, providersTried: outcome.providersDone };
  if (outcome.sent) return { ...delivery, ...outcome.sent };
  return { ...delivery, status: 'failed', attempts: attempt, ...outcome.failed! };
}
