/**
 * The checks of `promtool check metrics` (client_golang's promlint, v1.25) on Prometheus's text format, for
 * tests: promtool is a Go program this project does not install. Returns "name: problem" lines in
 * promlint's words; its check for duplicate series is left out (prom-client never writes one).
 */
export function lintExposition(text: string): string[] {
  const help = new Set<string>();
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const comment = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (kind === 'HELP') help.add(name!);
      else types.set(name!, rest?.trim() ?? 'untyped');
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const family = familyOf(sample[1]!, types);
    if (!types.has(family)) types.set(family, 'untyped');
    const names = labels.get(family) ?? new Set<string>();
    for (const label of sample[2]?.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g) ?? []) names.add(label[1]!);
    labels.set(family, names);
  }
  return [...types].flatMap(([name, type]) =>
    problemsOf(name, type, help.has(name), labels.get(name) ?? new Set()).map((p) => `${name}: ${p}`),
  );
}

function problemsOf(name: string, type: string, hasHelp: boolean, labelNames: Set<string>): string[] {
  const problems: string[] = [];
  const lower = name.toLowerCase();
  const hasWord = (word: string) => lower.includes(`_${word}_`) || lower.endsWith(`_${word}`);
  if (!hasHelp) problems.push('no help text');
  const unit = metricUnit(name);
  if (unit && unit.unit !== unit.base) problems.push(`use base unit "${unit.base}" instead of "${unit.unit}"`);
  if (type === 'counter' && !name.endsWith('_total')) problems.push('counter metrics should have "_total" suffix');
  if (type !== 'untyped' && type !== 'counter' && name.endsWith('_total'))
    problems.push('non-counter metrics should not have "_total" suffix');
  if (type !== 'untyped') {
    const histogram = type === 'histogram';
    const summary = type === 'summary';
    if (!histogram && name.endsWith('_bucket')) problems.push('non-histogram metrics should not have "_bucket" suffix');
    for (const suffix of ['_count', '_sum'])
      if (!histogram && !summary && name.endsWith(suffix))
        problems.push(`non-histogram and non-summary metrics should not have "${suffix}" suffix`);
    if (!histogram && labelNames.has('le')) problems.push('non-histogram metrics should not have "le" label');
    if (!summary && labelNames.has('quantile')) problems.push('non-summary metrics should not have "quantile" label');
    if (hasWord(type)) problems.push(`metric name should not include type '${type}'`);
  }
  if (name.includes(':')) problems.push("metric names should not contain ':'");
  if (/[a-z][A-Z]/.test(name)) problems.push("metric names should be written in 'snake_case' not 'camelCase'");
  for (const label of labelNames)
    if (/[a-z][A-Z]/.test(label)) problems.push("label names should be written in 'snake_case' not 'camelCase'");
  for (const abbreviation of UNIT_ABBREVIATIONS)
    if (hasWord(abbreviation)) problems.push('metric names should not contain abbreviated units');
  return problems;
}

/** A sample's family: histograms and summaries add suffixes to their own name. */
function familyOf(sample: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_count', '_sum']) {
    const base = sample.slice(0, -suffix.length);
    if (sample.endsWith(suffix) && ['histogram', 'summary'].includes(types.get(base) ?? '')) return base;
  }
  return sample;
}

/** The first word of the name that is a unit, alone or with a prefix (`milliseconds`), and its base unit. */
function metricUnit(name: string): { unit: string; base: string } | undefined {
  for (const word of name.split('_')) {
    if (UNITS[word]) return { unit: word, base: UNITS[word] };
    for (const prefix of UNIT_PREFIXES) {
      const base = word.startsWith(prefix) ? UNITS[word.slice(prefix.length)] : undefined;
      if (base) return { unit: word, base };
    }
  }
  return undefined;
}

const BASE_UNITS = ['amperes', 'bytes', 'celsius', 'grams', 'joules', 'kelvin', 'meters', 'metres', 'seconds', 'volts'];
const UNITS: Record<string, string> = {
  ...Object.fromEntries(BASE_UNITS.map((u) => [u, u])),
  minutes: 'seconds',
  hours: 'seconds',
  days: 'seconds',
  weeks: 'seconds',
  kelvins: 'kelvin',
  fahrenheit: 'celsius',
  rankine: 'celsius',
  inches: 'meters',
  yards: 'meters',
  miles: 'meters',
  bits: 'bytes',
  calories: 'joules',
  pounds: 'grams',
  ounces: 'grams',
};
const UNIT_PREFIXES = [
  'pico',
  'nano',
  'micro',
  'milli',
  'centi',
  'deci',
  'deca',
  'hecto',
  'kilo',
  'kibi',
  'mega',
  'mebi',
  'giga',
  'gibi',
  'tera',
  'tebi',
  'peta',
  'pebi',
];
const UNIT_ABBREVIATIONS = ['s', 'ms', 'us', 'ns', 'sec', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'm', 'h', 'd'];
