/**
 * The run's report: a summary on the terminal, the whole of it as JSON beside the run's logs, and
 * the figures as markdown, which a full run writes into docs/reliability.md between its markers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as prettier from 'prettier';
import path from 'node:path';
import type { Findings } from './checks';
import type { FaultEvent } from './faults';
import type { GracefulFigures } from './graceful';
import { chaosDir, root } from './manifest';
import type { Plan } from './plan';

export interface Report {
  mode: Plan['mode'];
  at: string;
  temporal: string;
  cores: number;
  node: string;
  plan: Plan;
  seconds: { startUp: number; load: number; settle: number; total: number };
  settled: boolean;
  faults: (FaultEvent & { clock: string })[];
  providerFaults: unknown;
  findings: Findings;
  graceful: GracefulFigures;
  verdicts: { check: string; ok: boolean }[];
}

const BEGIN = '<!-- chaos figures: begin -->';
const END = '<!-- chaos figures: end -->';
const docs = path.join(root, 'docs', 'reliability.md');

export async function writeReport(report: Report, runDir: string): Promise<void> {
  const json = JSON.stringify(report, null, 2);
  writeFileSync(path.join(runDir, 'report.json'), json);
  writeFileSync(path.join(chaosDir, `latest-${report.mode}.json`), json);
  const markdown = figuresMarkdown(report);
  writeFileSync(path.join(runDir, 'figures.md'), markdown);
  if (report.mode === 'full' && existsSync(docs)) {
    const text = readFileSync(docs, 'utf8');
    const begin = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    if (begin >= 0 && end > begin) {
      const updated = `${text.slice(0, begin + BEGIN.length)}\n\n${markdown}\n${text.slice(end)}`;
      // Formatted as the rest of the documentation is, so the written file passes the lint.
      const options = await prettier.resolveConfig(docs);
      writeFileSync(docs, await prettier.format(updated, { ...options, filepath: docs }));
      console.log(`[chaos] figures written into ${path.relative(root, docs)}`);
    }
  }
}

export function printSummary(report: Report, runDir: string): void {
  const f = report.findings;
  console.log(`\nChaos run (${report.mode} mode) on ${report.cores} cores, ${report.temporal}`);
  console.log(
    `  ${f.requests.sent} notifications sent, ${f.requests.acceptedAnswered} accepted (202), ${f.requests.acceptedUnanswered} accepted without an answer, ${f.requests.neverAccepted} never accepted`,
  );
  console.log(`  ${report.faults.length} faults injected; timings: ${JSON.stringify(report.seconds)}`);
  for (const [channel, c] of Object.entries(f.channels))
    console.log(
      `  ${channel}: ${c.expected} should go, ${c.reached} reached, ${c.lost} lost, ${c.duplicates} duplicated`,
    );
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    console.log(`\n${title} (${items.length}):`);
    for (const item of items.slice(0, 20)) console.log(`  ${item}`);
    if (items.length > 20) console.log(`  … ${items.length - 20} more in the report`);
  };
  list('Not settled', f.notFinal);
  list('Lost', f.lost);
  list(
    'Duplicates',
    f.duplicates.map(
      (d) =>
        `${d.delivery} at ${d.arrivals.map((a) => `${a.at} (${a.provider}${a.sender ? `, pid ${a.sender}` : ''})`).join(', ')}: ${d.explanation ?? 'UNEXPLAINED'}`,
    ),
  );
  list('Status without a provider', f.phantoms);
  list('Reached someone it should not', f.unexpected);
  list('Acknowledged, yet a later step ran', f.ackViolations);
  list(
    'Refused',
    f.requests.refused.map((r) => `${r.tag}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`),
  );
  console.log('');
  for (const v of report.verdicts) console.log(`  ${v.ok ? 'ok  ' : 'FAIL'} ${v.check}`);
  console.log(`\nReport and logs: ${path.relative(root, runDir)}/`);
}

/** The figures section of docs/reliability.md. */
export function figuresMarkdown(report: Report): string {
  const f = report.findings;
  const channels = Object.entries(f.channels);
  const total = channels.reduce(
    (t, [, c]) => ({
      expected: t.expected + c.expected,
      reached: t.reached + c.reached,
      lost: t.lost + c.lost,
      duplicates: t.duplicates + c.duplicates,
    }),
    { expected: 0, reached: 0, lost: 0, duplicates: 0 },
  );
  const rate = (d: number, n: number) => (n ? `${((100 * d) / n).toFixed(2)} %` : '–');
  const lines = [
    `Run of ${report.at.slice(0, 10)} (${report.mode} mode, ${report.temporal}, ${report.cores} cores, Node ${report.node}):`,
    `${report.seconds.load.toFixed(0)} s of load, settled ${report.settled ? `${report.seconds.settle.toFixed(0)} s after it` : 'NOT within the bound'}.`,
    '',
    `Requests: ${f.requests.sent} notifications sent (${Object.entries(f.byKind)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}) and one broadcast of ${report.plan.broadcastRecipients.toLocaleString('en')}; ` +
      `${f.requests.acceptedAnswered} answered 202, ${f.requests.acceptedUnanswered} accepted although no try had an answer, ` +
      `${f.requests.neverAccepted} never accepted; ${f.requests.retriedTries} tries ended without an answer and were sent again; ` +
      `${f.acknowledged} escalations acknowledged.`,
    '',
    '| Channel | Should have gone | Reached the provider | Lost | Duplicated | Duplicate rate |',
    '| --- | --: | --: | --: | --: | --: |',
    ...channels.map(
      ([channel, c]) =>
        `| ${channel} | ${c.expected} | ${c.reached} | ${c.lost} | ${c.duplicates} | ${rate(c.duplicates, c.expected)} |`,
    ),
    `| **all** | **${total.expected}** | **${total.reached}** | **${total.lost}** | **${total.duplicates}** | **${rate(total.duplicates, total.expected)}** |`,
    '',
    'Duplicates, each with the fault between its two arrivals:',
    '',
    ...(f.duplicates.length
      ? f.duplicates.map(
          (d) =>
            `- ${d.delivery}: ${d.arrivals.map((a) => `${a.at} (${a.provider}${a.sender ? `, pid ${a.sender}` : ''})`).join(', ')}. ${d.explanation ?? '**Unexplained.**'}`,
        )
      : ['- none']),
    '',
    `Faults (${report.faults.length}, times from the load's start):`,
    '',
    ...summariseFaults(report.faults),
    '',
    'Graceful shutdown under load:',
    '',
    ...report.graceful.workers.map(
      (w) =>
        `- SIGTERM to ${w.worker} with ${w.activitiesInFlight ?? 'an unknown number of'} activities in flight: exited ${w.exitCode} after ${w.secondsToExit.toFixed(1)} s (grace ${report.graceful.graceSeconds} s).`,
    ),
    ...report.graceful.apis.map(
      (a) =>
        `- SIGTERM to ${a.api} right after a burst of accepts: ${a.inFlight} requests in hand, ${a.answered} answered (${a.accepted} with 202), ${a.cut} cut without an answer; ` +
        `of those sent to it after the signal, ${a.afterSignal.answered} answered, ${a.afterSignal.refused} refused once it stopped listening (sent again to the other API), ${a.afterSignal.cut} cut; exited ${a.exitCode} after ${a.secondsToExit.toFixed(1)} s.`,
    ),
    '',
    'Checks:',
    '',
    ...report.verdicts.map((v) => `- ${v.ok ? 'passed' : '**failed**'}: ${v.check}`),
  ];
  return lines.join('\n') + '\n';
}

function summariseFaults(faults: Report['faults']): string[] {
  const kills = faults.filter((f) => f.kind === 'worker-sigkill');
  const rest = faults.filter((f) => f.kind !== 'worker-sigkill');
  return [
    `- ${kills.length} worker SIGKILLs (${kills.map((k) => `${k.clock} ${k.target}`).join(', ')}), each restarted at once`,
    ...rest.map(
      (f) =>
        `- ${f.clock} ${f.kind} ${f.target}${f.detail ? ` (${f.detail})` : ''}${f.endedAt ? `, back after ${((f.endedAt - f.at) / 1000).toFixed(1)} s` : ''}`,
    ),
  ];
}
