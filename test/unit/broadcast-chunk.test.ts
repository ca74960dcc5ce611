import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createBroadcastActivities } from '../../activities/broadcast';
import { createDeliver } from '../../activities/deliver';
import type { ProvidersByChannel } from '../../activities/providers';
import {
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from '../../activities/providers/provider';
import { upsertTenant } from '../../api/tenants';
import type { DatabaseHandle } from '../../db/connect';
import { recordedDeliveries } from '../../db/deliveries';
import { broadcastChunks } from '../../db/schema';
import type { ChunkSend } from '../../domain/broadcast';
import { testDatabase } from '../support/herald';

/** An email provider that fails for now for the addresses the test names, and takes the rest. */
class FlakyEmail implements Provider {
  readonly name = 'flaky';
  readonly failing = new Set<string>();
  async send(message: OutboundMessage): Promise<SendResult> {
    if (this.failing.has(message.to)) throw new TransientProviderError('451 try again later', 30_000);
    return { providerMessageId: `flaky-${randomUUID()}`, status: 'sent' };
  }
}

describe('a broadcast chunk counts the tries of each send, not its own', () => {
  let database: DatabaseHandle;
  const tenantId = 'tenant-broadcast-chunk';
  beforeAll(async () => {
    database = await testDatabase();
    await upsertTenant(database.db, tenantId, 'Broadcast chunk tests', 'hk_broadcast_chunk_tests');
  });
  afterAll(() => database?.close());

  async function chunk(): Promise<ChunkSend> {
    const broadcastId = randomUUID();
    await database.db.insert(broadcastChunks).values({
      tenantId,
      broadcastId,
      chunk: 0,
      recipients: [
        { id: 'steady', email: 'steady@example.com' },
        { id: 'flaky', email: 'flaky@example.com' },
      ],
    });
    return {
      tenantId,
      broadcastId,
      channels: ['email'],
      channel: 'email',
      message: { subject: 'News', text: 'hello' },
      priority: 'normal',
      critical: true,
      createdAt: new Date().toISOString(),
      chunkCount: 1,
      chunk: 0,
      at: new Date().toISOString(),
    };
  }

  function pass(provider: FlakyEmail, send: ChunkSend, info: { attempt: number; heartbeatDetails?: unknown }) {
    const { attempt } = createDeliver({ email: [provider] } as unknown as ProvidersByChannel, database.db);
    const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
    let progress: unknown;
    env.on('heartbeat', (details: unknown) => (progress = details));
    const run = env.run(createBroadcastActivities(database.db, attempt).sendBroadcastChunk, send).then(
      () => undefined,
      (error: unknown) => error,
    );
    return run.then((error) => ({ error, progress }));
  }

  const statusOf = async (send: ChunkSend, id: string) =>
    (await recordedDeliveries(database.db, { ...send, notificationId: send.broadcastId }, [id]))[0]?.status;

  it("retries a send's first failure, however many passes the chunk took before (killed workers)", async () => {
    const provider = new FlakyEmail();
    provider.failing.add('flaky@example.com');
    const send = await chunk();
    // The sixth pass of a chunk whose earlier passes died with their workers before sending to anyone.
    const { error, progress } = await pass(provider, send, { attempt: 6 });
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'BroadcastRetry', nonRetryable: false, nextRetryDelay: 30_000 });
    expect(await statusOf(send, 'flaky')).toBeUndefined();
    expect(await statusOf(send, 'steady')).toBe('sent');
    expect(progress).toEqual({ sent: 1, tries: { flaky: 1 } });
  });

  it('fails a send for good at its own sixth try', async () => {
    const provider = new FlakyEmail();
    provider.failing.add('flaky@example.com');
    const send = await chunk();
    const { error } = await pass(provider, send, { attempt: 2, heartbeatDetails: { sent: 1, tries: { flaky: 5 } } });
    expect(error).toBeUndefined();
    expect(await statusOf(send, 'flaky')).toBe('failed');
  });
});
