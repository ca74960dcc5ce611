import type { Database } from '../../db/connect';
import { insertExperiment } from '../../db/experiments';
import { experimentExposures } from '../../db/schema';

/**
 * A running experiment between versions 1 (`a`) and 2 (`b`) of a template, each variant seen by 60
 * recipients of whom `clicks` clicked, as if the sends had happened: its next look decides on these.
 */
export async function seedExperiment(
  db: Database,
  { tenantId, id, key, clicks }: { tenantId: string; id: string; key: string; clicks: [number, number] },
): Promise<void> {
  await insertExperiment(db, {
    id,
    tenantId,
    templateKey: key,
    variants: [
      { name: 'a', version: 1, weight: 1 },
      { name: 'b', version: 2, weight: 1 },
    ],
    metric: 'clicked',
    alpha: 0.05,
    expectedLift: 5,
    minSamples: 30,
    minDurationSeconds: 0,
    state: 'running',
  });
  await db.insert(experimentExposures).values(
    ['a', 'b'].flatMap((variant, v) =>
      Array.from({ length: 60 }, (_, i) => ({
        tenantId,
        experimentId: id,
        recipientId: `${variant}-${i}`,
        variant,
        ...(i < clicks[v]! ? { convertedAt: new Date() } : {}),
      })),
    ),
  );
}
