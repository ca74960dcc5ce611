/**
 * After the load, waits (bounded) until every accepted notification has reached a final state and
 * has decided each of its later steps, and the broadcast has ended; then reads what Herald says of
 * each, which the checks compare with the providers' logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pool } from '../../domain/pool';
import type { HeraldClient } from './client';
import type { Load, Order } from './load';

/** GET /status as the checks read it. */
export interface StatusSnapshot {
  status: string;
  deliveries: {
    recipient_id: string;
    channel: string;
    status: string;
    step?: number;
    provider?: string;
    providers_tried?: string[];
    attempts?: number;
    error?: string;
  }[];
  timeline?: { at: string; event: string; recipient_id?: string; step?: number; reason?: string }[];
  acknowledgement?: { at: string; by: string };
}

export interface BroadcastSnapshot {
  status: string;
  recipients: number;
  chunks: { total: number; completed: number; failed: number };
  deliveries: Record<string, number>;
}

/** What Herald said of each request when the wait ended; `404` for one it never accepted. */
export type Outcome = { found: true; snapshot: StatusSnapshot } | { found: false; status: number | undefined };

const OPEN = new Set(['accepted', 'scheduled', 'held', 'sending']);

export function settled(order: Order, snapshot: StatusSnapshot): boolean {
  if (OPEN.has(snapshot.status)) return false;
  if (snapshot.status === 'cancelled') return true;
  const decided = new Set(
    (snapshot.timeline ?? [])
      .filter((e) => (e.event === 'step' || e.event === 'skipped') && e.step !== undefined)
      .map((e) => `${e.recipient_id}/${e.step}`),
  );
  return order.recipients.every((r) => order.steps.every((_, i) => decided.has(`${r.id}/${i + 1}`)));
}

export async function settle(load: Load, client: HeraldClient, timeoutMs: number) {
  const outcomes = new Map<Order, Outcome>();
  const waiting = new Set(load.orders.filter((o) => o.answer?.status === 202 || o.answer?.status === undefined));
  const deadline = Date.now() + timeoutMs;
  let broadcast: BroadcastSnapshot | undefined;
  const broadcastId = load.broadcast?.id;
  for (;;) {
    const batch = [...waiting];
    await pool(batch.length, 8, async (i) => {
      const order = batch[i]!;
      const answer = await client.call('GET', `/status/${order.id}`, undefined, { budgetMs: 30_000 });
      if (answer.status === 200) {
        const snapshot = answer.body as StatusSnapshot;
        outcomes.set(order, { found: true, snapshot });
        if (settled(order, snapshot)) waiting.delete(order);
      } else {
        outcomes.set(order, { found: false, status: answer.status });
        // Never accepted: a request that had no answer, whose retries did not get one either.
        if (answer.status === 404 && order.answer?.status === undefined) waiting.delete(order);
      }
    });
    if (broadcastId && (!broadcast || ['accepted', 'sending'].includes(broadcast.status))) {
      const answer = await client.call('GET', `/broadcasts/${broadcastId}`, undefined, { budgetMs: 30_000 });
      if (answer.status === 200) broadcast = answer.body as BroadcastSnapshot;
    }
    const broadcastDone =
      !broadcastId || (broadcast !== undefined && !['accepted', 'sending'].includes(broadcast.status));
    if ((waiting.size === 0 && broadcastDone) || Date.now() > deadline)
      return { outcomes, broadcast, settled: waiting.size === 0 && broadcastDone, unsettled: [...waiting] };
    console.log(
      `[chaos] waiting for ${waiting.size} notifications${broadcastDone ? '' : ` and the broadcast (${broadcast?.status ?? 'unknown'})`} to settle`,
    );
    await sleep(3000);
  }
}
