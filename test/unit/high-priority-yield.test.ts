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
    // One task still under way.
    expect(y.holding(500)).toBe(true);
    y.ended(600);
    expect(y.holding(699)).toBe(true);
    expect(y.holding(700)).toBe(false);
  });

  it('holds a long stretch until its budget runs out, then half the time at most', () => {
    const y = new HighPriorityYield(options);
    y.began(0);
    // The budget of 1 s, spent at 1 ms and refilled at 0.5 ms per ms held, lasts 2 s.
    for (let t = 0; t < 2000; t += 10) expect(y.holding(t)).toBe(true);
    let held = 0;
    for (let t = 2000; t < 12_000; t += 10) if (y.holding(t)) held++;
    expect(held / 1000).toBeCloseTo(0.5, 1);
  });

  it('charges the budget only for the time work was under way, however long before anyone looks', () => {
    const y = new HighPriorityYield(options);
    y.began(0);
    y.ended(50);
    // Held for 150 ms of the minute: the budget is full again, and the next stretch holds its whole 2 s.
    y.began(60_000);
    expect(y.holding(61_990)).toBe(true);
  });

  it('never holds with no budget', () => {
    const y = new HighPriorityYield({ ...options, maxHoldMs: 0 });
    y.began(0);
    expect(y.holding(1)).toBe(false);
  });
});
