import { HighPriorityYield } from '../../domain/high-priority-yield';

describe('HighPriorityYield', () => {
  const options = { graceMs: 100, maxHoldMs: 1000 };

  it('holds nothing while no high-priority work has begun', () => {
    expect(new HighPriorityYield(options).holding(0)).toBe(false);
  });

  it('holds while high-priority work is under way, and a grace after the last of it ends', () => {
    const y = new HighPriorityYield(options);
    y.began(0);
    y.began(10);
    expect(y.holding(50)).toBe(true);
    y.ended(60);
    // One task still under way, however long it takes.
    expect(y.holding(500)).toBe(true);
    y.ended(600);
    expect(y.holding(699)).toBe(true);
    expect(y.holding(700)).toBe(false);
  });

  it('holds one stretch for the longest hold at most, then not until a quiet grace has passed', () => {
    const y = new HighPriorityYield(options);
    // A task every 50 ms, each 20 ms long: one stretch, for ever.
    for (let t = 0; t <= 1500; t += 50) {
      y.began(t);
      expect(y.holding(t + 10)).toBe(t + 10 < 1000);
      y.ended(t + 20);
    }
    // Quiet for a grace, then high-priority work again: held afresh.
    y.began(1700);
    expect(y.holding(1710)).toBe(true);
  });

  it('never holds with no longest hold', () => {
    const y = new HighPriorityYield({ ...options, maxHoldMs: 0 });
    y.began(0);
    expect(y.holding(1)).toBe(false);
  });
});
