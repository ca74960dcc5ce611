import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { NotificationSnapshot, Receipt } from '../domain/notification';

export const statusQuery = defineQuery<NotificationSnapshot>('status');
export const receiptSignal = defineSignal<[Receipt]>('receipt');

/** Search attributes that turn the Temporal Web UI into an operator console. */
export const searchAttributes = {
  tenant: defineSearchAttributeKey('HeraldTenant', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('HeraldStatus', SearchAttributeType.KEYWORD),
  channels: defineSearchAttributeKey('HeraldChannels', SearchAttributeType.KEYWORD_LIST),
  priority: defineSearchAttributeKey('HeraldPriority', SearchAttributeType.KEYWORD),
  /** Channels with a dead-lettered delivery: `HeraldFailedChannels = "sms"` finds them in the Web UI. */
  failedChannels: defineSearchAttributeKey('HeraldFailedChannels', SearchAttributeType.KEYWORD_LIST),
} as const;

/**
 * Patch ids: workflows started before a change replay its old commands. Each is checked once, at the
 * start of the workflow.
 */
export const PATCHES = {
  /** Each provider of a channel is its own activity; failover moves on; receipts only move forward. */
  providerFailover: 'provider-failover',
} as const;

/** Workflow ids carry the tenant, so one tenant can never address another's notification. */
export function notificationWorkflowId(tenantId: string, notificationId: string): string {
  return `notification/${tenantId}/${notificationId}`;
}
