import { pool } from '../domain/pool';
import { EventStreamReader } from '../test/support/sse';
import type { Row } from './report';
import { latencySummary, steadyRssMb } from './stats';

interface Target {
  base: string;
  auth: Record<string, string>;
  heraldPid: number;
  /** Runs a burst of single-recipient notifications and waits for it to drain; its accept rate (req/s). */
  burst: (size: number) => Promise<number>;
}

interface Sizes {
  streams: number;
  streamProbes: number;
  streamBurst: number;
}

interface Reporting {
  record: (row: Row) => void;
  check: (ok: boolean, what: string) => void;
}

/** Probes go out at 5 a second, as the other latency probes do. */
const PROBES_PER_SECOND = 5;

/**
 * Live inboxes: `streams` recipients each with one open (GET /inbox/stream), their memory in the
 * Herald process, accept → event latency idle and while a burst drains, and the burst's rate with them
 * open against the same burst without.
 */
export async function inboxStreamStages(target: Target, sizes: Sizes, { record, check }: Reporting) {
  const { base, auth } = target;
  const recipient = (i: number) => `bench-inbox-${i}`;
  const without = await target.burst(sizes.streamBurst);

  const tokens: string[] = [];
  await pool(sizes.streams, 16, async (i) => {
    const res = await fetch(`${base}/recipients/${recipient(i)}/tokens`, { method: 'POST', headers: auth, body: '{}' });
    tokens[i] = ((await res.json()) as { token: string }).token;
  });
  const before = await steadyRssMb(target.heraldPid);
  const streams: EventStreamReader[] = [];
  try {
    await pool(sizes.streams, 50, async (i) => {
      streams[i] = await EventStreamReader.open(`${base}/inbox/stream?token=${encodeURIComponent(tokens[i]!)}`);
      await streams[i]!.until((e) => e.length >= 1, 60_000);
    });
    check(
      streams.every((s) => s.status === 200),
      `live inboxes: ${streams.filter((s) => s.status === 200).length}/${sizes.streams} open`,
    );
    const after = await steadyRssMb(target.heraldPid);
    record({
      stage: 'live inbox',
      figure: `${sizes.streams} open at once: Herald's memory per connection`,
      value: ((after - before) * 1024) / sizes.streams,
      unit: `KiB (RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB)`,
    });

    /** Sends in-app probes at a steady pace, each to another recipient; accept → its stream's event. */
    const probe = async (tag: string) => {
      const latencies: number[] = [];
      /** From the message's row, stored, to its event read here: the stream's own part. */
      const fromStored: number[] = [];
      const start = performance.now();
      await Promise.all(
        Array.from({ length: sizes.streamProbes }, async (_, i) => {
          await new Promise((r) => setTimeout(r, start + (i * 1000) / PROBES_PER_SECOND - performance.now()));
          const at = (i * 7919) % sizes.streams;
          const text = `${tag}-${i}`;
          const sentAt = performance.now();
          const res = await fetch(`${base}/notify`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ channels: ['in_app'], recipients: [{ id: recipient(at) }], message: text }),
          });
          check(res.status === 202, `${text}: answered ${res.status}`);
          const events = await streams[at]!.until(
            (e) => e.some((x) => x.event === 'added' && x.data.includes(text)),
            120_000,
          );
          const heard = events.find((x) => x.event === 'added' && x.data.includes(text))!;
          latencies.push(heard.receivedAt - sentAt);
          const stored = (JSON.parse(heard.data) as { messages: { created_at: string }[] }).messages[0]!.created_at;
          fromStored.push(performance.timeOrigin + heard.receivedAt - Date.parse(stored));
        }),
      );
      return { ...latencySummary(latencies), stored: latencySummary(fromStored) };
    };
    const idle = await probe('idle');
    record({
      stage: 'live inbox',
      figure: `accept → event on its stream, ${sizes.streams} open, idle: p50 / p99`,
      value: idle.p50,
      unit: `ms / ${idle.p99.toFixed(0)} ms (stored → event ${idle.stored.p50.toFixed(0)} / ${idle.stored.p99.toFixed(0)} ms)`,
    });
    const [withStreams, busy] = await Promise.all([target.burst(sizes.streamBurst), probe('burst')]);
    record({
      stage: 'live inbox',
      figure: `accept → event on its stream, during a low-priority burst of ${sizes.streamBurst}: p50 / p99`,
      value: busy.p50,
      unit: `ms / ${busy.p99.toFixed(0)} ms (stored → event ${busy.stored.p50.toFixed(0)} / ${busy.stored.p99.toFixed(0)} ms)`,
      baseline: 'idle p50',
      ratio: busy.p50 / idle.p50,
    });
    record({
      stage: 'live inbox',
      figure: `burst of ${sizes.streamBurst} POST /notify with ${sizes.streams} live inboxes open`,
      value: withStreams,
      unit: 'req/s',
      baseline: 'the same burst, none open',
      ratio: withStreams / without,
    });
  } finally {
    for (const stream of streams) stream?.close();
  }
}
