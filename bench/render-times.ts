/**
 * Render time per channel of the typical template, its versions' cache warm: through a render pool
 * (the round trip a send pays: the job copied to a thread, rendered, the message copied back) and,
 * as the baseline, the same render in this process.
 */
import {
  CompiledTemplateCache,
  TEMPLATE_CHANNELS,
  checkTemplate,
  renderTemplate,
  type RenderJob,
  type TemplateChannel,
} from '../domain/templates/render';
import { createRenderPool } from '../runtime/render-pool';
import { latencySummary } from './stats';
import { ORDER_SHIPPED, orderData, recipientLocale } from './template-fixture';

export interface ChannelRenderTimes {
  channel: TemplateChannel;
  pool: ReturnType<typeof latencySummary>;
  inProcess: ReturnType<typeof latencySummary>;
}

export async function renderTimes(samples: number, warmUp: number): Promise<ChannelRenderTimes[]> {
  const { compiledEmailHtml } = await checkTemplate(ORDER_SHIPPED, {});
  const job = (channel: TemplateChannel, i: number): RenderJob => {
    const { locale, timezone } = recipientLocale(i);
    return {
      content: ORDER_SHIPPED,
      compiledEmailHtml,
      channel,
      data: orderData(i),
      locale,
      timeZone: timezone,
      sources: {},
      // One version, one key, as a worker renders it for every channel.
      cacheKey: 'bench/order-shipped@1',
    };
  };
  const pool = createRenderPool();
  const cache = new CompiledTemplateCache();
  const results: ChannelRenderTimes[] = [];
  try {
    for (const channel of TEMPLATE_CHANNELS) {
      for (let i = 0; i < warmUp; i++) {
        await pool.render(job(channel, i));
        await renderTemplate(job(channel, i), cache);
      }
      // One render at a time, the two ways in turn: the time of a render, not of a queue, on the same noise.
      const pooled: number[] = [];
      const local: number[] = [];
      for (let i = 0; i < samples; i++) {
        const next = job(channel, i);
        let started = performance.now();
        await pool.render(next);
        pooled.push(performance.now() - started);
        started = performance.now();
        await renderTemplate(next, cache);
        local.push(performance.now() - started);
      }
      results.push({ channel, pool: latencySummary(pooled), inProcess: latencySummary(local) });
    }
  } finally {
    await pool.close();
  }
  return results;
}
