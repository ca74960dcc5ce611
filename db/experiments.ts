import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { metricsMet, type Engagement } from '../domain/experiments/experiment';
import type { Database } from './connect';
import { deliveries, experimentExposures, experiments } from './schema';

export type ExperimentRow = typeof experiments.$inferSelect;
export type NewExperiment = typeof experiments.$inferInsert;

/** Per variant: who saw it, and how many of them met the metric, failed or unsubscribed. */
export interface VariantCounts {
  variant: string;
  exposed: number;
  outcomes: number;
  failed: number;
  unsubscribed: number;
}

export async function insertExperiment(db: Database, experiment: NewExperiment): Promise<ExperimentRow> {
  const [row] = await db.insert(experiments).values(experiment).returning();
  return row!;
}

export async function findExperiment(db: Database, tenantId: string, id: string): Promise<ExperimentRow | undefined> {
  const [row] = await db
    .select()
    .from(experiments)
    .where(and(eq(experiments.tenantId, tenantId), eq(experiments.id, id)));
  return row;
}

export async function runningExperiment(
  db: Database,
  tenantId: string,
  templateKey: string,
): Promise<ExperimentRow | undefined> {
  const [row] = await db
    .select()
    .from(experiments)
    .where(
      and(
        eq(experiments.tenantId, tenantId),
        eq(experiments.templateKey, templateKey),
        eq(experiments.state, 'running'),
      ),
    );
  return row;
}

/**
 * Records the recipient's variant at their first exposure and answers the variant they see: one assigned
 * before keeps the variant it had, whatever `variant` says now.
 */
export async function exposeRecipient(
  db: Database,
  tenantId: string,
  experimentId: string,
  recipientId: string,
  variant: string,
): Promise<string> {
  const [row] = await db
    .insert(experimentExposures)
    .values({ tenantId, experimentId, recipientId, variant })
    .onConflictDoUpdate({
      target: [experimentExposures.experimentId, experimentExposures.recipientId],
      // A no-op update, so the row that was there comes back; the tenant must be the same one.
      set: { variant: sql`${experimentExposures.variant}` },
      setWhere: eq(experimentExposures.tenantId, tenantId),
    })
    .returning({ variant: experimentExposures.variant });
  if (!row) throw new Error(`experiment ${experimentId} belongs to another tenant`);
  return row.variant;
}

/**
 * Counts an engagement of a recipient exposed to the experiment, once: the first of each kind is
 * kept, so a second click or a repeated receipt changes nothing. Only a running experiment counts.
 */
export async function recordEngagement(
  db: Database,
  tenantId: string,
  experimentId: string,
  recipientId: string,
  engagement: Engagement,
): Promise<void> {
  const field = engagement === 'failed' ? 'failedAt' : engagement === 'unsubscribed' ? 'unsubscribedAt' : 'convertedAt';
  const column = experimentExposures[field];
  const metrics = metricsMet(engagement);
  const counts =
    engagement === 'failed' || engagement === 'unsubscribed'
      ? sql`true`
      : metrics.length > 0
        ? inArray(experiments.metric, metrics)
        : sql`false`;
  const experimentIsRunning = db
    .select({ id: experiments.id })
    .from(experiments)
    .where(
      and(
        eq(experiments.tenantId, tenantId),
        eq(experiments.id, experimentId),
        eq(experiments.state, 'running'),
        counts,
      ),
    );
  await db
    .update(experimentExposures)
    .set({ [field]: new Date() })
    .where(
      and(
        eq(experimentExposures.tenantId, tenantId),
        eq(experimentExposures.experimentId, experimentId),
        eq(experimentExposures.recipientId, recipientId),
        isNull(column),
        sql`exists (${experimentIsRunning})`,
      ),
    );
}

export async function variantCounts(db: Database, tenantId: string, experimentId: string): Promise<VariantCounts[]> {
  return db
    .select({
      variant: experimentExposures.variant,
      exposed: sql<number>`count(*)::int`,
      outcomes: sql<number>`count(${experimentExposures.convertedAt})::int`,
      failed: sql<number>`count(${experimentExposures.failedAt})::int`,
      unsubscribed: sql<number>`count(${experimentExposures.unsubscribedAt})::int`,
    })
    .from(experimentExposures)
    .where(and(eq(experimentExposures.tenantId, tenantId), eq(experimentExposures.experimentId, experimentId)))
    .groupBy(experimentExposures.variant);
}

/** Stores an evaluation; `ended` when it decided (or was stopped), after which nothing changes it. */
export async function saveEvaluation(
  db: Database,
  tenantId: string,
  id: string,
  update: Pick<ExperimentRow, 'state' | 'result'> & { ended: boolean },
): Promise<boolean> {
  const updated = await db
    .update(experiments)
    .set({ state: update.state, result: update.result, ...(update.ended ? { endedAt: new Date() } : {}) })
    .where(and(eq(experiments.tenantId, tenantId), eq(experiments.id, id), eq(experiments.state, 'running')))
    .returning({ id: experiments.id });
  return updated.length > 0;
}

/** Counts an engagement for the experiments a notification's deliveries to the recipient took part in. */
export async function recordNotificationEngagement(
  db: Database,
  tenantId: string,
  notificationId: string,
  recipientId: string,
  engagement: Engagement,
): Promise<void> {
  const rows = await db
    .selectDistinct({ experimentId: sql<string>`${deliveries.details}->>'experimentId'` })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.tenantId, tenantId),
        eq(deliveries.notificationId, notificationId),
        eq(deliveries.recipientId, recipientId),
        sql`${deliveries.details}->>'experimentId' is not null`,
      ),
    );
  for (const { experimentId } of rows) await recordEngagement(db, tenantId, experimentId, recipientId, engagement);
}

/** An unsubscribe counts against every running experiment the recipient was exposed to. */
export async function recordUnsubscribe(db: Database, tenantId: string, recipientId: string): Promise<void> {
  const running = db
    .select({ id: experiments.id })
    .from(experiments)
    .where(and(eq(experiments.tenantId, tenantId), eq(experiments.state, 'running')));
  await db
    .update(experimentExposures)
    .set({ unsubscribedAt: new Date() })
    .where(
      and(
        eq(experimentExposures.tenantId, tenantId),
        eq(experimentExposures.recipientId, recipientId),
        isNull(experimentExposures.unsubscribedAt),
        inArray(experimentExposures.experimentId, running),
      ),
    );
}

/** The tenant's experiments, newest first, on one template when named. */
export function listExperiments(db: Database, tenantId: string, templateKey?: string): Promise<ExperimentRow[]> {
  return db
    .select()
    .from(experiments)
    .where(and(eq(experiments.tenantId, tenantId), templateKey ? eq(experiments.templateKey, templateKey) : undefined))
    .orderBy(desc(experiments.startedAt))
    .limit(200);
}

/** Ends a running experiment without a decision: the control stays. */
export async function stopExperiment(db: Database, tenantId: string, id: string): Promise<void> {
  await db
    .update(experiments)
    .set({ state: 'no_winner', endedAt: new Date() })
    .where(and(eq(experiments.tenantId, tenantId), eq(experiments.id, id), eq(experiments.state, 'running')));
}
