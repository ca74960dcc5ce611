import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/connect';
import { preferences } from '../db/schema';
import { CHANNELS, type Channel } from '../domain/channels';
import { quietHoursEnd } from '../domain/local-time';
import { channelAllowed } from '../domain/preferences';

export interface PlanRecipientInput {
  tenantId: string;
  recipientId: string;
  category?: string;
  /** The recipient's own time zone, for quiet hours that do not name one. */
  timezone?: string;
  /** The workflow's now: quiet hours are judged at the workflow's time, not the worker's clock. */
  at: string;
}

export interface RecipientPlan {
  /** Channels the recipient's preferences switch off for this category. */
  blockedChannels: Channel[];
  /** When the quiet hours `at` falls in end; absent outside them. */
  quietUntil?: string;
}

/** Reads a recipient's preferences as they stand now: what they take, and whether to hold until morning. */
export function createPlanRecipient(db: Database) {
  return async function planRecipient(input: PlanRecipientInput): Promise<RecipientPlan> {
    const [row] = await db
      .select({ preferences: preferences.preferences })
      .from(preferences)
      .where(and(eq(preferences.tenantId, input.tenantId), eq(preferences.recipientId, input.recipientId)));
    const prefs = row?.preferences ?? {};
    const blockedChannels = CHANNELS.filter((channel) => !channelAllowed(prefs, input.category, channel));
    const quiet = prefs.quietHours;
    const end = quiet && quietHoursEnd(new Date(input.at), quiet, quiet.timezone ?? input.timezone ?? 'UTC');
    return { blockedChannels, ...(end ? { quietUntil: end.toISOString() } : {}) };
  };
}
