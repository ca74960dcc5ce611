/**
 * Which field of a five-field cron expression is wrong, and how: Temporal refuses a bad expression
 * with a message that seldom says where. Used only on a refusal, to name the fix.
 */
const FIELDS = [
  { name: 'minute', unit: 'minutes', min: 0, max: 59 },
  { name: 'hour', unit: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', unit: 'days of the month', min: 1, max: 31 },
  { name: 'month', unit: 'months', min: 1, max: 12, names: 'JAN–DEC' },
  { name: 'day-of-week', unit: 'days of the week', min: 0, max: 7, names: 'SUN–SAT' },
] as const;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const ORDINALS = ['1st', '2nd', '3rd', '4th', '5th'];
const EXAMPLE = 'e.g. `0 9 * * MON-FRI` for 9:00 on weekdays';

export function explainCron(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== FIELDS.length)
    return `cron has ${fields.length} fields; it takes five: minute hour day-of-month month day-of-week, ${EXAMPLE}`;
  for (const [i, field] of FIELDS.entries()) {
    const problem = fieldProblem(fields[i]!, field, i);
    if (problem) return `cron's ${field.name} field (the ${ORDINALS[i]}) ${problem}; ${EXAMPLE}`;
  }
  return undefined;
}

function fieldProblem(text: string, field: (typeof FIELDS)[number], index: number): string | undefined {
  const names = index === 3 ? MONTHS : index === 4 ? DAYS : [];
  for (const part of text.split(',')) {
    const [range, step, ...rest] = part.split('/');
    if (rest.length > 0 || (step !== undefined && !/^[1-9][0-9]*$/.test(step)))
      return `has "${part}": a step is / and a whole number, e.g. */15`;
    if (range === '*' || range === '?') continue;
    // L, W and # (last, weekday, nth weekday) are the day fields' own; Temporal checks their use.
    if (index >= 2 && index !== 3 && /[LW#]/.test(range!)) continue;
    for (const value of range!.split('-')) {
      const named = names.indexOf(value.toUpperCase());
      const number = named >= 0 ? named + (index === 3 ? 1 : 0) : /^[0-9]+$/.test(value) ? Number(value) : NaN;
      if (Number.isNaN(number))
        return `has "${value}": ${field.unit} are numbers ${field.min}–${field.max}${'names' in field ? ` or ${field.names}` : ''}`;
      if (number < field.min || number > field.max) return `has ${number}: ${field.unit} run ${field.min}–${field.max}`;
    }
  }
  return undefined;
}
