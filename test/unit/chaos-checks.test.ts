import { readFileSync } from 'node:fs';
import net from 'node:net';
import { duplicate, type Inputs } from '../../scripts/chaos/checks';
import { connectionOwner } from '../../scripts/chaos/senders';
import type { FaultEvent } from '../../scripts/chaos/faults';
import type { Arrival } from '../../scripts/chaos/providers';

const arrival = (at: number, sender?: number): Arrival => ({
  provider: 'smtp',
  channel: 'email',
  tag: 'b807',
  to: 'r807',
  at,
  ...(sender ? { sender } : {}),
});

function explain(faults: FaultEvent | FaultEvent[], firstAt: number, secondAt: number, sender?: number) {
  const inputs = { faults: [faults].flat(), clock: (at: number) => `+${at / 1000}s` } as unknown as Inputs;
  return duplicate('broadcast/b807', [arrival(firstAt, sender), arrival(secondAt)], inputs).explanation;
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

  it('names the stop of the worker that sent the first, of several in the window', () => {
    const kills: FaultEvent[] = [
      { kind: 'worker-sigkill', target: 'worker-1', at: 30_000, pid: 101 },
      { kind: 'worker-sigkill', target: 'worker-2', at: 30_400, pid: 202 },
    ];
    expect(explain(kills, 29_800, 42_000, 202)).toBe(
      'worker-sigkill of worker-2 (pid 202) at +30.4s (killed after the provider took it and before Temporal had the result; the retry sent it again): it sent the first',
    );
    // Sent by a worker no fault stopped: a restarted server is what cut it.
    const restart: FaultEvent = { kind: 'temporal-restart', target: 'dev-server', at: 29_000, endedAt: 33_000 };
    expect(explain([...kills, restart], 29_800, 42_000, 303)).toMatch(/^temporal-restart of dev-server at \+29s/);
    // Neither: the candidates, and whose send it was.
    expect(explain(kills, 29_800, 42_000, 303)).toMatch(/the first was sent by pid 303, which none of them stopped$/);
    // …which a full run counts as unexplained.
    const inputs = { faults: kills, clock: (at: number) => `+${at / 1000}s` } as unknown as Inputs;
    expect(duplicate('n1/r1/email', [arrival(29_800, 303), arrival(42_000)], inputs).senderNotStopped).toBe(true);
    expect(duplicate('n1/r1/email', [arrival(29_800, 202), arrival(42_000)], inputs).senderNotStopped).toBeUndefined();
    // No sender known: every window that could have.
    expect(explain(kills, 29_800, 42_000)).toMatch(/worker-1 .* or worker-sigkill of worker-2/);
  });
});

describe("the providers' logs name the process that opened each connection", () => {
  it('finds the process group holding the client end of a loopback connection', async () => {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const ownGroup = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    const owners: (number | undefined)[] = [];
    const server = net.createServer((socket) => {
      const port = (server.address() as net.AddressInfo).port;
      owners.push(
        connectionOwner(socket.remotePort!, port, [ownGroup]),
        connectionOwner(socket.remotePort!, port, [-1]),
      );
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.on('close', resolve));
    server.close();
    expect(owners).toEqual([ownGroup, undefined]);
  });
});
