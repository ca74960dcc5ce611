/**
 * `node --expose-gc --import tsx bench/template-cache-memory.ts [VERSIONS]`: the heap a render thread's
 * cache holds for that many compiled email versions of the typical template (1,000 by default, the
 * thread's capacity), each rendered once in English and once in French so its strings are parsed.
 * Prints one JSON line: versions cached and heap bytes added.
 */
import { CompiledTemplateCache, checkTemplate, renderTemplate, type RenderJob } from '../domain/templates/render';
import { ORDER_SHIPPED, orderData, recipientLocale } from './template-fixture';

const gc = (globalThis as { gc?: () => void }).gc;

async function main() {
  if (!gc) throw new Error('run with node --expose-gc');
  const versions = Number(process.argv[2] ?? 1_000);
  const { compiledEmailHtml } = await checkTemplate(ORDER_SHIPPED, {});
  // A thread receives each job as a structured clone: every version it caches holds copies of its own.
  const job = (version: number, i: number): RenderJob =>
    structuredClone({
      content: {
        ...ORDER_SHIPPED,
        email: { ...ORDER_SHIPPED.email!, mjml: ORDER_SHIPPED.email!.mjml!.replace('Herald Shop', `Shop ${version}`) },
      },
      compiledEmailHtml: compiledEmailHtml!.replace('Herald Shop', `Shop ${version}`),
      channel: 'email',
      data: orderData(i),
      locale: recipientLocale(i).locale,
      timeZone: recipientLocale(i).timezone,
      sources: {},
      cacheKey: `bench/order-shipped@${version}`,
    });
  // Code loaded lazily and Intl's formatters are the thread's, not the cache's: paid before measuring.
  const warm = new CompiledTemplateCache();
  for (const i of [0, 1]) await renderTemplate(job(-1, i), warm);

  const heapUsed = () => {
    gc!();
    gc!();
    return process.memoryUsage().heapUsed;
  };
  const before = heapUsed();
  const cache = new CompiledTemplateCache(versions);
  for (let version = 1; version <= versions; version++) {
    for (const i of [0, 1]) await renderTemplate(job(version, i), cache);
  }
  const bytes = heapUsed() - before;
  console.log(JSON.stringify({ versions, cached: cache.size, bytes }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
