import { WorkflowNotFoundError } from '@temporalio/client';
import { revokeInboxTokens } from '../db/inbox-tokens';
import { pseudonymOfAddress } from '../db/recipient-pseudonyms';
import { deleteRecipientData } from '../db/recipients';
import { inTenant } from '../db/tenant-scope';
import { forgetRecipientSignal, notificationWorkflowId } from '../workflows/definitions';
import type { ApiContext } from './context';
import { MAX_TOKEN_TTL_MS } from './recipient-tokens';

export interface Forgotten {
  profile: boolean;
  preferences: boolean;
  inboxMessages: number;
  /** Open notifications told to send nothing more to the recipient. */
  pendingNotifications: number;
  /** Broadcasts still sending that left the recipient out of their chunks not yet sent. */
  pendingBroadcasts: number;
}

/**
 * Deletes what Herald keeps about a recipient (contact profile, preferences, in-app messages), refuses
 * the inbox tokens issued for it so far, and tells every open notification naming it to send it nothing
 * more. The workflow histories keep what was sent, as the audit record; their retention ends them.
 */
export async function forgetRecipient(ctx: ApiContext, tenantId: string, recipientId: string, by: string) {
  // First, so no browser holding a token reads what is left while the rest goes. An id the tenant never
  // stored may still have tokens (an inline recipient's inbox), and an address has its pseudonym's too.
  const alias = await pseudonymOfAddress(ctx.db, recipientId);
  const ids = alias ? [recipientId, alias] : [recipientId];
  await inTenant(ctx.db, tenantId, (db) => revokeInboxTokens(db, tenantId, ids, new Date(), MAX_TOKEN_TTL_MS));
  const deleted = await deleteRecipientData(ctx.db, tenantId, recipientId);
  const told = new Set<string>();
  // Accepted and not started yet: each starts with the signal in its history, before any send.
  for (const pending of await ctx.starts.pendingNaming(tenantId, recipientId)) {
    try {
      await ctx.starts.startWithSignal(pending, forgetRecipientSignal, [{ recipientId, by }]);
      told.add(notificationWorkflowId(tenantId, pending.request.notificationId));
    } catch (error) {
      // Started and closed meanwhile: it has nothing left to send.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  for await (const workflow of ctx.temporal.workflow.list({ query: pendingQuery(tenantId, recipientId) })) {
    if (told.has(workflow.workflowId)) continue;
    try {
      await ctx.temporal.workflow.getHandle(workflow.workflowId).signal(forgetRecipientSignal, { recipientId, by });
      told.add(workflow.workflowId);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return { ...deleted, pendingNotifications: told.size } satisfies Forgotten;
}

/**
 * The tenant's open notifications that list the recipient, or list `*` (too many to name). An id with
 * characters a query string cannot quote safely asks every open notification of the tenant: each
 * ignores a recipient it does not have.
 */
function pendingQuery(tenantId: string, recipientId: string): string {
  const open = `HeraldTenant = "${tenantId}" AND ExecutionStatus = "Running"`;
  return /^[\w.@+:=-]+$/.test(recipientId) ? `${open} AND HeraldRecipients IN ("${recipientId}", "*")` : open;
}
