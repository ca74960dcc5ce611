/**
 * Two-proportion mixture sequential probability ratio test (mSPRT): Johari, Koomen, Pekelis & Walsh,
 * "Always Valid Inference: Continuous Monitoring of A/B Tests" (2017; Operations Research, 2022).
 *
 * The estimated difference of rates θ̂ = p̂B − p̂A is, for large enough arms, normal around the true
 * difference θ with variance V = p̂A(1−p̂A)/nA + p̂B(1−p̂B)/nB (which allows arms of unequal size).
 * Against θ = 0, mixing the alternatives over θ ~ N(0, τ²) gives the likelihood ratio
 *
 *   Λ = √(V / (V + τ²)) · exp(τ² θ̂² / (2V(V + τ²)))
 *
 * (with equal arms of n, V = σ²/n and this is the `√(V/(V+nτ²)) · exp(n²τ²θ̂²/(2V(V+nτ²)))` form with
 * V = σ²). Λ is a martingale under the null, so by Ville's inequality it exceeds 1/α with probability at
 * most α however many times, and whenever, anyone looks: the running minimum of 1/Λ is a p-value valid
 * at every look, and inverting the test at every θ gives a confidence sequence.
 */

// Math's and Number's functions by local name: the loops call them often, and a global lookup is slow inside a vm
// context (as under Jest, where the simulations that check these statistics run).
const { abs, ceil, exp, log, max, min, sqrt } = Math;
const { isFinite: isFiniteNumber, isInteger } = Number;

export interface ArmCounts {
  exposed: number;
  outcomes: number;
}

export interface DifferenceEstimate {
  /** p̂B − p̂A. */
  difference: number;
  /** Its estimated variance V. */
  variance: number;
}

/**
 * The estimated difference of rates (variant − control) and its variance. The variance takes each
 * rate as (outcomes + ½)/(exposed + 1), so an arm with no outcome yet (or nothing but outcomes) does not
 * count as certain: V = 0 would make any difference look infinitely significant.
 */
export function differenceOf(control: ArmCounts, variant: ArmCounts): DifferenceEstimate {
  checkArm(control);
  checkArm(variant);
  if (control.exposed === 0 || variant.exposed === 0) {
    throw new RangeError('both arms need at least one exposure');
  }
  const difference = variant.outcomes / variant.exposed - control.outcomes / control.exposed;
  return { difference, variance: armVariance(control) + armVariance(variant) };
}

/** ln Λ for a difference (shifted by θ0, the difference under test) at mixing scale τ. */
export function logMixtureLikelihoodRatio(estimate: DifferenceEstimate, tau: number, theta0 = 0): number {
  checkTau(tau);
  const v = estimate.variance;
  const t2 = tau * tau;
  const d = estimate.difference - theta0;
  return 0.5 * log(v / (v + t2)) + (t2 * d * d) / (2 * v * (v + t2));
}

/**
 * The always-valid p-value after this look: min(previous, 1/Λ), capped at 1. Pass the value this
 * function gave at the last look (none at the first) so it never rises again: a p-value that could rise
 * would let a lucky early look be forgotten, which is what the minimum over looks is there to allow.
 */
export function alwaysValidPValue(control: ArmCounts, variant: ArmCounts, tau: number, previous = 1): number {
  const now = min(1, exp(-logMixtureLikelihoodRatio(differenceOf(control, variant), tau)));
  return min(previous, now);
}

/**
 * The always-valid (1 − α) confidence sequence for the difference of rates (variant − control): every
 * θ the mSPRT at level α does not reject,
 *
 *   θ̂ ± √( V(V + τ²)/τ² · (2 ln(1/α) + ln((V + τ²)/V)) ),
 *
 * clipped to [−1, 1]. It covers the true difference at every look at once with probability ≥ 1 − α.
 */
export function confidenceSequence(
  control: ArmCounts,
  variant: ArmCounts,
  tau: number,
  alpha: number,
): [number, number] {
  checkTau(tau);
  checkAlpha(alpha);
  const { difference, variance: v } = differenceOf(control, variant);
  const t2 = tau * tau;
  const half = sqrt(((v * (v + t2)) / t2) * (2 * log(1 / alpha) + log((v + t2) / v)));
  return [max(-1, difference - half), min(1, difference + half)];
}

/**
 * The mixing scale τ for an experiment: the absolute difference of rates it hopes to detect,
 * τ = baseRate × |relativeLift|.
 *
 * Why: with τ² = κδ² for an expected difference δ, the sample size at which the test detects δ with
 * 80 % power (see `plannedSampleSize`) is smallest near κ ≈ 0.5–0.75 and flat around it; κ = 1 costs
 * about 1 % more samples at α = 0.05, 0.025 or 0.01, and is the rule anyone can state: put the mixing
 * distribution's standard deviation at the effect you expect. A τ far too small makes the test wait for
 * huge samples; far too large, it pays a larger ln((V+τ²)/V) before anything counts.
 */
export function tauFor(baseRate: number, relativeLift: number): number {
  checkPlan(baseRate, relativeLift);
  return baseRate * abs(relativeLift);
}

/**
 * Per-variant exposures by which the mSPRT (with τ from `tauFor`) detects a relative lift of the base
 * rate with the given power, at level α shared by `comparisons` variants against the control
 * (Bonferroni: each at α / comparisons).
 *
 * Approximation: with n per arm, V = σ²/n where σ² = p0(1−p0) + p1(1−p1), and r = τ²/V = nτ²/σ². The test
 * rejects once Λ ≥ 1/α, that is once |θ̂|/√V ≥ c(r) = √((1 + r)/r · (2 ln(1/α) + ln(1 + r))). At n the
 * statistic θ̂/√V is about N(δ/√V, 1) = N(√r, 1) (since τ = δ), so a crossing at the last look alone has
 * probability Φ(√r − c(r)); the smallest r with √r − c(r) ≥ z_power gives n = r·σ²/δ². Crossing at any
 * earlier look also counts, so the real power by n is higher: the approximation is conservative (the
 * simulation in test/unit/experiment-statistics.test.ts measures how much).
 */
export function plannedSampleSize(
  baseRate: number,
  relativeLift: number,
  alpha = 0.05,
  power = 0.8,
  comparisons = 1,
): number {
  checkPlan(baseRate, relativeLift);
  checkAlpha(alpha);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  if (!isInteger(comparisons) || comparisons < 1) {
    throw new RangeError(`comparisons must be a whole number ≥ 1, got ${comparisons}`);
  }
  const p0 = baseRate;
  const p1 = baseRate * (1 + relativeLift);
  const sigma2 = p0 * (1 - p0) + p1 * (1 - p1);
  const delta = abs(p1 - p0);
  const twoLogInverseAlpha = 2 * log(comparisons / alpha);
  const zPower = normalQuantile(power);
  const margin = (r: number) => sqrt(r) - sqrt(((1 + r) / r) * (twoLogInverseAlpha + log(1 + r))) - zPower;
  // margin rises with r over the range that matters: find where it crosses 0.
  let lo = 1e-6;
  let hi = 1;
  while (margin(hi) < 0) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (margin(mid) >= 0) hi = mid;
    else lo = mid;
  }
  return ceil((hi * sigma2) / (delta * delta));
}

/** Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = sqrt(-2 * log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

function armVariance({ exposed, outcomes }: ArmCounts): number {
  const p = (outcomes + 0.5) / (exposed + 1);
  return (p * (1 - p)) / exposed;
}

function checkArm({ exposed, outcomes }: ArmCounts): void {
  if (!isInteger(exposed) || !isInteger(outcomes) || exposed < 0 || outcomes < 0 || outcomes > exposed) {
    throw new RangeError(`counts must be whole numbers with 0 ≤ outcomes ≤ exposed, got ${outcomes}/${exposed}`);
  }
}

function checkTau(tau: number): void {
  if (!(tau > 0 && isFiniteNumber(tau))) throw new RangeError(`τ must be a positive number, got ${tau}`);
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`α must be in (0, 1), got ${alpha}`);
}

function checkPlan(baseRate: number, relativeLift: number): void {
  if (!(baseRate > 0 && baseRate < 1)) throw new RangeError(`the base rate must be in (0, 1), got ${baseRate}`);
  const lifted = baseRate * (1 + relativeLift);
  if (!isFiniteNumber(relativeLift) || relativeLift === 0 || !(lifted > 0 && lifted < 1)) {
    throw new RangeError(`the lift must be non-zero and keep the rate in (0, 1), got ${relativeLift}`);
  }
}
