import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { BroadcastProgress } from '../domain/broadcast';
import type { NotificationSnapshot, Receipt } from '../domain/notification';
import type { Acknowledgement } from '../domain/orchestration';

export const statusQuery = defineQuery<NotificationSnapshot>('status');
export const receiptSignal = defineSignal<[Receipt]>('receipt');
export const broadcastProgressQuery = defineQuery<BroadcastProgress>('broadcast-progress');

/** Who did it; the Temporal Web UI may send these with no argument at all. */
export interface OperatorAction {
  by?: string;
  reason?: string;
}
/** Stops whatever has not been sent yet: a scheduled send, a quiet-hours hold, later steps. */
export const cancelSignal = defineSignal<[OperatorAction?]>('cancel');
/** Stops escalation; the first acknowledgement is the one kept. */
export const acknowledgeSignal = defineSignal<[Acknowledgement]>('acknowledge');
/** Ends an acknowledged escalation for good, so its acknowledgement timeout cannot re-open it. */
export const resolveSignal = defineSignal<[OperatorAction?]>('resolve');
/** Sends a failed notification's failed deliveries again. */
export const retrySignal = defineSignal<[OperatorAction?]>('retry');

/** A recipient deleted on request: nothing more is sent to it; what was sent stays in the record. */
export const forgetRecipientSignal = defineSignal<[{ recipientId: string; by?: string }]>('forget-recipient');

/** Search attributes that turn the Temporal Web UI into an operator console. */
export const searchAttributes = {
  tenant: defineSearchAttributeKey('HeraldTenant', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('HeraldStatus', SearchAttributeType.KEYWORD),
  channels: defineSearchAttributeKey('HeraldChannels', SearchAttributeType.KEYWORD_LIST),
  priority: defineSearchAttributeKey('HeraldPriority', SearchAttributeType.KEYWORD),
  /** Channels with a dead-lettered delivery: `HeraldFailedChannels = "sms"` finds them in the Web UI. */
  failedChannels: defineSearchAttributeKey('HeraldFailedChannels', SearchAttributeType.KEYWORD_LIST),
  /** Recipient ids, so deleting a recipient finds its pending notifications; `*` when too many to list. */
  recipients: defineSearchAttributeKey('HeraldRecipients', SearchAttributeType.KEYWORD_LIST),
} as const;

/** Past this many characters of ids a notification's recipients are listed as `*`: search attribute values are small. */
const RECIPIENT_IDS_MAX_CHARS = 1500;

export function recipientsAttribute(ids: string[]): string[] {
  return ids.reduce((n, id) => n + id.length + 1, 0) > RECIPIENT_IDS_MAX_CHARS ? ['*'] : ids;
}

/**
 * Patch ids: workflows started before a change replay its old commands. Each is checked once per run,
 * at the start of the workflow or where its change first applies.
 */
export const PATCHES = {
  /** Each provider of a channel is its own activity; failover moves on; receipts only move forward. */
  providerFailover: 'provider-failover',
  /** Steps (fallback, escalation), send times, quiet hours, preferences, cancel, ack and retry. */
  orchestration: 'orchestration',
  /** Preferences read by the API at accept stand for a notification sent at once: no activity reads them. */
  plansAtAccept: 'plans-at-accept',
  /** The API records the notification at accept: one that sends at once skips its first record activity. */
  recordedAtAccept: 'recorded-at-accept',
  /** The notification's record is a local activity (a regular one after a few failed tries): no task round trip. */
  localRecord: 'local-record',
  /** Sends of one channel that a notification of several recipients starts together go in one activity. */
  batchedSends: 'batched-sends',
  /** Recipients waiting for one instant share its timer, and read their preferences again in one activity. */
  sharedWaits: 'shared-waits',
} as const;

/**
 * Whether this run takes a change made since the notification workflow first shipped: `patched` in the first
 * workflow type, whose histories hold a marker per change; in the current one, `patched` only for changes
 * made since it shipped.
 */
export type ChangeGate = (patchId: string) => boolean;

/** Changes made since the current notification type shipped: it checks these with `patched()` too. */
export const PATCHES_SINCE_CURRENT_TYPE: ReadonlySet<string> = new Set([PATCHES.batchedSends, PATCHES.sharedWaits]);

/** Workflow ids carry the tenant, so one tenant can never address another's notification. */
export function notificationWorkflowId(tenantId: string, notificationId: string): string {
  return `notification/${tenantId}/${notificationId}`;
}

/** Ends an experiment at its next look: it decides on what it has, and the control stays unless a variant won. */
export const stopExperimentSignal = defineSignal('stop-experiment');

/** An experiment's evaluator: one per experiment, so a second start is refused. */
export function experimentWorkflowId(tenantId: string, experimentId: string): string {
  return `experiment/${tenantId}/${experimentId}`;
}
