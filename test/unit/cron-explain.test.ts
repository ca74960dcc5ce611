import { explainCron } from '../../domain/cron-explain';

describe('explainCron names the field of a cron expression at fault and what it takes', () => {
  it.each([
    ['61 25 * * *', /^cron's minute field \(the 1st\) has 61: minutes run 0–59; e\.g\. `0 9 \* \* MON-FRI`/],
    ['0 25 * * *', /^cron's hour field \(the 2nd\) has 25: hours run 0–23/],
    ['0 9 0 * *', /day-of-month field \(the 3rd\) has 0: days of the month run 1–31/],
    ['0 9 * FOO *', /month field \(the 4th\) has "FOO": months are numbers 1–12 or JAN–DEC/],
    ['0 9 * * MON-FUN', /day-of-week field \(the 5th\) has "FUN": days of the week are numbers 0–7 or SUN–SAT/],
    ['*/0 * * * *', /minute field \(the 1st\) has "\*\/0": a step is \/ and a whole number/],
    ['* * * * * * * *', /^cron has 8 fields; it takes five: minute hour day-of-month month day-of-week/],
    ['L L L L L', /minute field \(the 1st\) has "L"/],
  ])('%j', (cron, explanation) => {
    expect(explainCron(cron)).toMatch(explanation);
  });

  it.each(['0 9 * * MON-FRI', '*/15 8-18 1,15 JAN-MAR 1-5', '0 0 L * ?', '0 9 ? * MON#1', '30 6 * 12 SUN,7'])(
    'finds nothing wrong in %j',
    (cron) => {
      expect(explainCron(cron)).toBeUndefined();
    },
  );
});
