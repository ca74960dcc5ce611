/**
 * Templates: the typical templated email drained against the same email with finished text, render
 * time per channel through a render pool against the same render in this process, and the heap the
 * compiled-template cache of a render thread holds per 1,000 versions.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { renderTimes } from './render-times';
import { fmt, type Report } from './report';
import { CONCURRENCY, templatedDrain, type Herald } from './templated-drain';

export interface TemplateSizes {
  /** Emails of each kind, finished text and templated. */
  templated: number;
  /** Timed renders per channel, each way. */
  renders: number;
  /** Compiled versions in the cache measured. */
  versions: number;
}

const WARM_RENDERS = 50;
const STAGE = 'templates';

export async function templateStages(herald: Herald, sizes: TemplateSizes, report: Report): Promise<void> {
  const { text, template } = await templatedDrain(herald, sizes.templated, report);
  const rounds = ({ rounds }: { rounds: number[] }) =>
    `/min, median of ${rounds.length} rounds (${fmt(Math.min(...rounds))}–${fmt(Math.max(...rounds))})`;
  report.record({
    stage: STAGE,
    figure: `${sizes.templated} emails with finished text (rendered beforehand): deliveries drained, accept to last send`,
    value: text.perMinute,
    unit: rounds(text),
  });
  report.record({
    stage: STAGE,
    figure: `the same ${sizes.templated} from an MJML template (en/fr, 10 variables), target ≥ ×0.95`,
    value: template.perMinute,
    unit: rounds(template),
    baseline: 'finished text',
    ratio: template.perMinute / text.perMinute,
  });
  report.record({
    stage: STAGE,
    figure: `the same ${sizes.templated} requests accepted, ${CONCURRENCY} at a time: with a template`,
    value: template.acceptedPerSecond,
    unit: `req/s (finished text ${fmt(text.acceptedPerSecond)} req/s)`,
    baseline: 'finished text',
    ratio: template.acceptedPerSecond / text.acceptedPerSecond,
  });
  report.record({
    stage: STAGE,
    figure: 'CPU per templated send: Herald (render threads included) / Temporal server',
    value: template.heraldMs,
    unit: `ms / ${fmt(template.serverMs)} ms (finished text ${fmt(text.heraldMs)} / ${fmt(text.serverMs)} ms)`,
    baseline: "finished text's Herald CPU",
    ratio: template.heraldMs / text.heraldMs,
  });

  for (const { channel, pool, inProcess } of await renderTimes(sizes.renders, WARM_RENDERS)) {
    report.check(
      pool.count === sizes.renders && inProcess.count === sizes.renders,
      `render ${channel}: ${pool.count} and ${inProcess.count} of ${sizes.renders} renders timed`,
    );
    report.record({
      stage: STAGE,
      figure: `render ${channel} through the pool, cache warm: p50 / p99${channel === 'email' ? ' (target p99 < 2 ms)' : ''}`,
      value: pool.p50,
      unit: `ms / ${fmt(pool.p99)} ms (in-process ${fmt(inProcess.p50)} / ${fmt(inProcess.p99)} ms)`,
      baseline: 'in-process p50',
      ratio: pool.p50 / inProcess.p50,
    });
  }

  const memory = await cacheMemory(sizes.versions);
  report.check(memory.cached === sizes.versions, `template cache: ${memory.cached} of ${sizes.versions} versions held`);
  report.record({
    stage: STAGE,
    figure: `compiled-template cache heap per 1,000 email versions (${sizes.versions} measured)`,
    value: (memory.bytes / 2 ** 20) * (1_000 / sizes.versions),
    unit: `MiB (${fmt(memory.bytes / 1024 / sizes.versions)} KiB a version)`,
  });
}

/** In a process of its own, whose garbage collector can be forced: the bench's heap holds everything else. */
async function cacheMemory(versions: number): Promise<{ cached: number; bytes: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', path.join(__dirname, 'template-cache-memory.ts'), String(versions)],
    { cwd: path.resolve(__dirname, '..') },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as { cached: number; bytes: number };
}
