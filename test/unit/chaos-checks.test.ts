import { duplicate, type Inputs } from '../../scripts/chaos/checks';
import type { FaultEvent } from '../../scripts/chaos/faults';
import type { Arrival } from '../../scripts/chaos/providers';

const arrival = (at: number): Arrival => ({ provider: 'smtp', channel: 'email', tag: 'b807', to: 'r807', at });

function explain(fault: FaultEvent, firstAt: number, secondAt: number) {
  const inputs = { faults: [fault], clock: (at: number) => `+${at / 1000}s` } as unknown as Inputs;
  return duplicate('broadcast/b807', [arrival(firstAt), arrival(secondAt)], inputs).explanation;
}

describe('the chaos suite explains a duplicate by the fault whose window holds its first send', () => {
  it('a SIGTERM cuts what is in flight at its grace time’s end, long after the signal', () => {
    const sigterm: FaultEvent = { kind: 'worker-sigterm', target: 'worker-1', at: 25_300, exitedAt: 35_800 };
    expect(explain(sigterm, 35_300, 37_800)).toMatch(/worker-sigterm of worker-1 at \+25.3s/);
  });

  it('a SIGTERM whose worker had exited before the first send explains nothing', () => {
    const sigterm: FaultEvent = { kind: 'worker-sigterm', target: 'worker-1', at: 20_000, exitedAt: 30_000 };
    expect(explain(sigterm, 35_300, 37_800)).toBeUndefined();
  });

  it('a kill explains only a first send around its instant, not one after the worker came back', () => {
    const kill: FaultEvent = { kind: 'worker-sigkill', target: 'worker-2', at: 30_000, endedAt: 40_000 };
    expect(explain(kill, 30_500, 32_000)).toMatch(/worker-sigkill/);
    expect(explain(kill, 35_300, 37_800)).toBeUndefined();
  });

  it('a restarted server explains sends made while it was away', () => {
    const restart: FaultEvent = { kind: 'postgres-restart', target: 'postgres', at: 40_000, endedAt: 46_000 };
    expect(explain(restart, 44_000, 47_000)).toMatch(/postgres-restart/);
  });

  it('a fault that cannot re-send (Redis stopping) explains nothing', () => {
    const redis: FaultEvent = { kind: 'redis-stop', target: 'redis', at: 35_000, endedAt: 65_000 };
    expect(explain(redis, 35_300, 37_800)).toBeUndefined();
  });
});
