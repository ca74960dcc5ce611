import { createHash } from 'node:crypto';
import { assignVariant, bucketOf, variantForBucket } from '../../domain/experiments/assignment';

const ids = (n: number, prefix = 'recipient-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('assigning recipients to variants', () => {
  it('puts a recipient in the bucket the first 32 bits of SHA-256(experiment:recipient) give, every time', () => {
    const digest = createHash('sha256').update('exp-1:ada').digest();
    expect(bucketOf('exp-1', 'ada')).toBe(digest.readUInt32BE(0) % 10_000);
    expect(bucketOf('exp-1', 'ada')).toBe(bucketOf('exp-1', 'ada'));
    // Another experiment reshuffles: not every experiment's control group is the same people.
    const moved = ids(1_000).filter((id) => bucketOf('exp-1', id) !== bucketOf('exp-2', id));
    expect(moved.length).toBeGreaterThan(990);
  });

  it('gives variants consecutive ranges of the 10,000 buckets by their weights', () => {
    const variants = [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 0 },
      { name: 'C', weight: 3 },
    ];
    expect(variantForBucket(0, variants)).toBe('A');
    expect(variantForBucket(2_499, variants)).toBe('A');
    expect(variantForBucket(2_500, variants)).toBe('C');
    expect(variantForBucket(9_999, variants)).toBe('C');
    expect(() => variantForBucket(10_000, variants)).toThrow(RangeError);
    expect(() => variantForBucket(1.5, variants)).toThrow(RangeError);
    expect(() => variantForBucket(0, [{ name: 'A', weight: 0 }])).toThrow(RangeError);
    expect(() => variantForBucket(0, [{ name: 'A', weight: -1 }])).toThrow(RangeError);
  });

  it('follows the weights over 100,000 recipients, within a point', () => {
    const variants = [
      { name: 'A', weight: 50 },
      { name: 'B', weight: 30 },
      { name: 'C', weight: 20 },
    ];
    const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
    for (const id of ids(100_000)) counts[assignVariant('exp-weights', id, variants)]!++;
    expect(Math.abs(counts.A! / 100_000 - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(counts.B! / 100_000 - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(counts.C! / 100_000 - 0.2)).toBeLessThan(0.01);
  });

  it('keeps everyone already exposed where they were after a change of weights, when the caller records first exposures', () => {
    // The caller (db/experiments.ts) records each recipient's variant at first exposure and reuses it.
    const recorded = new Map<string, string>();
    const exposeOnce = (id: string, variants: { name: string; weight: number }[]) => {
      if (!recorded.has(id)) recorded.set(id, assignVariant('exp-change', id, variants));
      return recorded.get(id)!;
    };
    const before = [
      { name: 'A', weight: 50 },
      { name: 'B', weight: 50 },
    ];
    const after = [
      { name: 'A', weight: 20 },
      { name: 'B', weight: 80 },
    ];
    const early = ids(10_000, 'early-');
    const first = early.map((id) => exposeOnce(id, before));
    expect(early.map((id) => exposeOnce(id, after))).toEqual(first);

    // Recomputed from the new weights alone, about 30 % of them would move, and only from A to B.
    const recomputed = early.map((id) => assignVariant('exp-change', id, after));
    const moves = recomputed.filter((v, i) => v !== first[i]);
    expect(moves.every((v) => v === 'B')).toBe(true);
    expect(Math.abs(moves.length / early.length - 0.3)).toBeLessThan(0.02);

    // Recipients not yet exposed follow the new weights.
    const late = ids(10_000, 'late-').map((id) => exposeOnce(id, after));
    expect(Math.abs(late.filter((v) => v === 'B').length / late.length - 0.8)).toBeLessThan(0.02);
  });

  it('gives the control to a recipient without an id', () => {
    const variants = [
      { name: 'control', weight: 1 },
      { name: 'treatment', weight: 99 },
    ];
    expect(assignVariant('exp-1', undefined, variants)).toBe('control');
    expect(assignVariant('exp-1', '', variants)).toBe('control');
    expect(() => assignVariant('exp-1', undefined, [])).toThrow(RangeError);
  });
});
