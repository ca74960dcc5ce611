import { BurstHold } from '../../domain/burst';

describe('BurstHold', () => {
  const options = { threshold: 4, spanMs: 100, maxHoldMs: 1000 };
  const arrivals = (hold: BurstHold, times: number[]) => times.forEach((t) => hold.arrived(t));

  it('holds nothing for arrivals spread out, or too few to be a burst', () => {
    const hold = new BurstHold(options);
    arrivals(hold, [0, 50, 100, 150, 200]);
    expect(hold.holding(210)).toBe(false);
    const few = new BurstHold(options);
    arrivals(few, [0, 1, 2]);
    expect(few.holding(3)).toBe(false);
  });

  it('holds while a burst arrives, and lets go a span after its last arrivals', () => {
    const hold = new BurstHold(options);
    arrivals(hold, [0, 10, 20, 30]);
    expect(hold.holding(30)).toBe(true);
    expect(hold.holding(99)).toBe(true);
    expect(hold.holding(100)).toBe(false);
    arrivals(hold, [200, 210, 220, 230]);
    expect(hold.holding(240)).toBe(true);
  });

  it('holds one burst for the longest hold at most, then not until a quiet span has passed', () => {
    const hold = new BurstHold(options);
    // A steady 100 arrivals a second: a burst by the threshold, for ever.
    let t = 0;
    for (; t <= 1500; t += 10) {
      hold.arrived(t);
      expect(hold.holding(t)).toBe(t >= 30 && t < 1030);
    }
    // Quiet, then a burst again: held afresh.
    arrivals(hold, [2000, 2001, 2002, 2003]);
    expect(hold.holding(2003)).toBe(true);
  });

  it('never holds with no longest hold', () => {
    const hold = new BurstHold({ ...options, maxHoldMs: 0 });
    arrivals(hold, [0, 1, 2, 3]);
    expect(hold.holding(3)).toBe(false);
  });
});
