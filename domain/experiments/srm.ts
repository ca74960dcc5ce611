/**
 * Sample-ratio mismatch: exposures that do not follow the weights mean assignment or counting is broken
 * (a variant that fails to render, a redirect that loses recipients, a bot filter on one side), and
 * then no comparison of the variants can be trusted. Checked by Pearson's χ² goodness of fit.
 */

// Math's and Number's functions by local name: the loops call them often, and a global lookup is slow inside a vm
// context (as under Jest, where the simulations that check these statistics run).
const { abs, exp, log, max, min, sin, PI } = Math;
const { isFinite: isFiniteNumber, isInteger } = Number;

/** Below this p-value the split is called a mismatch: strict, since the check runs at every look. */
export const SRM_THRESHOLD = 0.001;

export interface SampleRatioCheck {
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  mismatch: boolean;
}

/**
 * χ² of the exposures against the shares the weights promise, with k − 1 degrees of freedom (k variants
 * of positive weight). A variant of weight 0 that was exposed anyway is a mismatch outright. The weights
 * must be the ones in force over the whole period counted: after a change of weights, pass the shares
 * each variant was actually offered (or count from the change).
 */
export function sampleRatioMismatch(
  variants: readonly { weight: number; exposed: number }[],
  threshold = SRM_THRESHOLD,
): SampleRatioCheck {
  let totalWeight = 0;
  let totalExposed = 0;
  for (const { weight, exposed } of variants) {
    if (!isFiniteNumber(weight) || weight < 0) throw new RangeError(`weights must be ≥ 0, got ${weight}`);
    if (!isInteger(exposed) || exposed < 0) throw new RangeError(`exposures must be whole, got ${exposed}`);
    totalWeight += weight;
    totalExposed += exposed;
  }
  if (totalWeight <= 0) throw new RangeError('the weights must not all be 0');
  if (variants.some((v) => v.weight === 0 && v.exposed > 0)) {
    return { chiSquare: Infinity, degreesOfFreedom: 0, pValue: 0, mismatch: true };
  }
  const weighted = variants.filter((v) => v.weight > 0);
  const degreesOfFreedom = weighted.length - 1;
  if (totalExposed === 0 || degreesOfFreedom === 0) {
    return { chiSquare: 0, degreesOfFreedom, pValue: 1, mismatch: false };
  }
  let chiSquare = 0;
  for (const { weight, exposed } of weighted) {
    const expected = (totalExposed * weight) / totalWeight;
    chiSquare += ((exposed - expected) * (exposed - expected)) / expected;
  }
  const pValue = chiSquareSurvival(chiSquare, degreesOfFreedom);
  return { chiSquare, degreesOfFreedom, pValue, mismatch: pValue < threshold };
}

/** P(X ≥ x) for X ~ χ²(k): the regularized upper incomplete gamma function Q(k/2, x/2). */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${degreesOfFreedom}`);
  if (x <= 0) return 1;
  return regularizedUpperGamma(degreesOfFreedom / 2, x / 2);
}

/**
 * Q(a, x) = Γ(a, x)/Γ(a): by its power series when x < a + 1 (where Q is not small, so 1 − P loses
 * nothing that matters), by Lentz's continued fraction beyond (Numerical Recipes §6.2).
 */
export function regularizedUpperGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (abs(term) < abs(sum) * 1e-15) break;
    }
    return max(0, 1 - sum * exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (abs(delta - 1) < 1e-15) break;
  }
  return min(1, exp(logPrefix) * h);
}

/** ln Γ(x) for x > 0 by Lanczos' approximation (g = 7, nine terms; about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return log(PI / sin(PI * x)) - logGamma(1 - x);
  const g = 7;
  const coefficients = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.61503916999186,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = coefficients[0]!;
  for (let i = 1; i < coefficients.length; i++) sum += coefficients[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * log(2 * PI) + (z + 0.5) * log(t) - t + log(sum);
}
