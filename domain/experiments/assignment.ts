import { sha256 } from '../sha256';

/** Buckets a recipient can fall in; weights are scaled to them, so a share is resolved to 0.01 %. */
export const BUCKETS = 10_000;

export interface WeightedVariant {
  name: string;
  weight: number;
}

/**
 * The recipient's bucket in an experiment: the first 32 bits of SHA-256(`experimentId:recipientId`)
 * modulo 10,000. The same pair always lands in the same bucket; another experiment reshuffles everyone,
 * so one experiment's control group is not every experiment's control group.
 */
export function bucketOf(experimentId: string, recipientId: string): number {
  return parseInt(sha256(`${experimentId}:${recipientId}`).slice(0, 8), 16) % BUCKETS;
}

/**
 * The variant owning a bucket: variants take consecutive ranges of buckets in their order, each as wide
 * as its share of the total weight (rounded to whole buckets). A variant of weight 0 gets none.
 */
export function variantForBucket(bucket: number, variants: readonly WeightedVariant[]): string {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKETS) {
    throw new RangeError(`bucket must be an integer from 0 to ${BUCKETS - 1}, got ${bucket}`);
  }
  const total = totalWeight(variants);
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.weight;
    if (bucket < Math.round((cumulative / total) * BUCKETS)) return variant.name;
  }
  // Unreachable: the last boundary rounds to exactly BUCKETS.
  return variants[variants.length - 1]!.name;
}

/**
 * The variant a recipient gets; the control (the first variant) when there is no recipient id to keep
 * the choice stable by.
 *
 * This is a pure function of the current weights: change the weights and some recipients map to another
 * variant. Callers therefore record each recipient's variant at first exposure and use the recorded one
 * from then on (`db/experiments.ts` does), so a weight change only steers recipients not yet exposed.
 */
export function assignVariant(
  experimentId: string,
  recipientId: string | undefined,
  variants: readonly WeightedVariant[],
): string {
  totalWeight(variants);
  if (recipientId === undefined || recipientId === '') return variants[0]!.name;
  return variantForBucket(bucketOf(experimentId, recipientId), variants);
}

function totalWeight(variants: readonly WeightedVariant[]): number {
  if (variants.length === 0) throw new RangeError('an experiment needs at least one variant');
  let total = 0;
  for (const { name, weight } of variants) {
    if (!Number.isFinite(weight) || weight < 0) {
      throw new RangeError(`variant ${name}: weight must be a finite number ≥ 0, got ${weight}`);
    }
    total += weight;
  }
  if (total <= 0) throw new RangeError('the variants’ weights must not all be 0');
  return total;
}
