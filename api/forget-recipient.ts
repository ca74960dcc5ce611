import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { inboxMessages, preferences, recipients } from '../db/schema';
import { forgetRecipientSignal } from '../workflows/definitions';
import type { ApiContext } from './context';

export interface Forgotten {
  profile: boolean;
  preferences: boolean;
  inboxMessages: number;
  /** Open notifications told to send nothing more to the recipient. */
  pendingNotifications: number;
}

/**
 * Deletes what Herald keeps about a recipient (contact profile, preferences, in-app messages) and tells
 * every open notification naming it to send it nothing more. The workflow histories keep what was
 * sent, as the audit record; their retention ends them.
 */
export async function forgetRecipient(ctx: ApiContext, tenantId: string, recipientId: string, by: string) {
  const profile = await ctx.db
    .delete(recipients)
    .where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, recipientId)))
    .returning({ id: recipients.id });
  const prefs = await ctx.db
    .delete(preferences)
    .where(and(eq(preferences.tenantId, tenantId), eq(preferences.recipientId, recipientId)))
    .returning({ id: preferences.recipientId });
  const inbox = await ctx.db
    .delete(inboxMessages)
    .where(and(eq(inboxMessages.tenantId, tenantId), eq(inboxMessages.recipientId, recipientId)))
    .returning({ id: inboxMessages.id });

  let pendingNotifications = 0;
  for await (const workflow of ctx.temporal.workflow.list({ query: pendingQuery(tenantId, recipientId) })) {
    try {
      await ctx.temporal.workflow.getHandle(workflow.workflowId).signal(forgetRecipientSignal, { recipientId, by });
      pendingNotifications++;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return {
    profile: profile.length > 0,
    preferences: prefs.length > 0,
    inboxMessages: inbox.length,
    pendingNotifications,
  } satisfies Forgotten;
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
