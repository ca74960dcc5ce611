/**
 * The typical templated email drained through Herald against the same emails with finished text:
 * each recipient's message rendered here beforehand, so both carry the same subject, HTML and text to
 * the same SMTP server, and only the template's work at send time differs (rendering, and its links
 * through the click redirect, on by default).
 */
import type { FakeSmtpServer, ReceivedMail } from '../test/fakes/smtp-server';
import { pool } from '../domain/pool';
import { CompiledTemplateCache, checkTemplate, renderTemplate, type RenderedMessage } from '../domain/templates/render';
import type { Report } from './report';
import { cpuSecondsSince, cpuTimes } from './stats';
import { ORDER_SHIPPED, orderData, recipientLocale } from './template-fixture';

const TEMPLATE_KEY = 'bench-order-shipped';
/** Requests in flight at once, as the load generator of the other stages keeps them. */
export const CONCURRENCY = 16;
const WARM_UP = 50;
type Kind = 'text' | 'template';
/**
 * Text and template in turn, each pair in both orders, eight rounds of each: a drift of the machine weighs
 * on both alike, and the median round shrugs off a burst of other work that a sum would count.
 */
const ROUNDS = Array.from({ length: 4 }, (): Kind[] => ['text', 'template', 'template', 'text']).flat();
/** After a round's last send its workflows record the outcome: CPU counted to the round, not the next. */
const TAIL_MS = 2_000;

export interface Herald {
  base: string;
  auth: Record<string, string>;
  smtp: FakeSmtpServer;
  /** Herald's process, and the Temporal server's (with its database's when it has one). */
  pids(): { herald: number[]; server: number[] };
}

export interface KindFigures {
  /** Deliveries a minute, first accept to last send: the median of the kind's rounds. */
  perMinute: number;
  rounds: number[];
  /** Requests accepted a second, 16 at a time, over its rounds. */
  acceptedPerSecond: number;
  /** CPU ms per send over its rounds. */
  heraldMs: number;
  serverMs: number;
}

/**
 * `count` emails of each kind, an eighth of them a round. Every email is checked: arrived once, rendered
 * in its recipient's language.
 */
export async function templatedDrain(
  herald: Herald,
  count: number,
  report: Report,
): Promise<Record<Kind, KindFigures>> {
  const saved = await fetch(`${herald.base}/templates/${TEMPLATE_KEY}`, {
    method: 'PUT',
    headers: herald.auth,
    body: JSON.stringify(ORDER_SHIPPED),
  });
  report.check(saved.status === 201 || saved.status === 200, `template: saving answered ${saved.status}`);
  const finished = await finishedEmails(count + WARM_UP);

  // Render threads start, and load MJML, with Herald's first template, and sends right after start-up
  // ran slower than later ones: both paid before the rounds.
  await round(herald, 'template', range(count, WARM_UP), finished, report);
  await round(herald, 'text', range(count, WARM_UP), finished, report);

  const figures = { text: newFigures(), template: newFigures() };
  const acceptMs = { text: 0, template: 0 };
  const sent = { text: 0, template: 0 };
  const perRound = Math.ceil((2 * count) / ROUNDS.length);
  for (const kind of ROUNDS) {
    const recipients = range(sent[kind], Math.min(perRound, count - sent[kind]));
    sent[kind] += recipients.length;
    const { ms, accepted, slowest, cpu } = await round(herald, kind, recipients, finished, report);
    const perMinute = (recipients.length / ms) * 60_000;
    console.log(
      `  templates: a round of ${recipients.length} ${kind} emails drained at ${Math.round(perMinute)} /min, slowest accept→send ${(slowest / 1000).toFixed(1)} s`,
    );
    acceptMs[kind] += accepted;
    figures[kind].rounds.push(perMinute);
    figures[kind].heraldMs += (cpu.herald * 1000) / count;
    figures[kind].serverMs += (cpu.server * 1000) / count;
  }
  for (const kind of ['text', 'template'] as const) {
    figures[kind].perMinute = median(figures[kind].rounds);
    figures[kind].acceptedPerSecond = (count / acceptMs[kind]) * 1000;
  }
  return figures;
}

const newFigures = (): KindFigures => ({
  perMinute: NaN,
  rounds: [],
  acceptedPerSecond: NaN,
  heraldMs: 0,
  serverMs: 0,
});
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
}

const range = (from: number, length: number) => Array.from({ length }, (_, i) => from + i);
const address = (kind: Kind, i: number) => `${kind}-${i}@bench.test`;

/** Each recipient's email rendered here, as a client sending finished text would. */
async function finishedEmails(count: number): Promise<RenderedMessage[]> {
  const { compiledEmailHtml } = await checkTemplate(ORDER_SHIPPED, {});
  const cache = new CompiledTemplateCache();
  const finished: RenderedMessage[] = [];
  for (let i = 0; i < count; i++) {
    const { locale, timezone: timeZone } = recipientLocale(i);
    const data = orderData(i);
    const job = { content: ORDER_SHIPPED, compiledEmailHtml, channel: 'email' as const, data, locale, timeZone };
    finished.push((await renderTemplate({ ...job, sources: {}, cacheKey: 'finished' }, cache)).message);
  }
  return finished;
}

/**
 * Sends one email to each recipient and waits for all of them: ms from the first request to the last
 * send and to the last accept, the slowest email's accept→send, and the CPU seconds each side used
 * meanwhile and in the tail.
 */
async function round(herald: Herald, kind: Kind, recipients: number[], finished: RenderedMessage[], report: Report) {
  const { smtp } = herald;
  const from = smtp.received.length;
  const pids = herald.pids();
  const cpuBefore = { herald: cpuTimes(pids.herald), server: cpuTimes(pids.server) };
  const started = performance.now();
  const sentAt = new Map<string, number>();
  await pool(recipients.length, CONCURRENCY, async (n) => {
    const i = recipients[n]!;
    const { subject, text, html } = finished[i]!;
    sentAt.set(address(kind, i), performance.now());
    const res = await fetch(`${herald.base}/notify`, {
      method: 'POST',
      headers: herald.auth,
      body: JSON.stringify({
        channels: ['email'],
        recipients: [{ email: address(kind, i), ...recipientLocale(i) }],
        ...(kind === 'template'
          ? { template: TEMPLATE_KEY, data: orderData(i) }
          : { message: { subject, text, html } }),
      }),
    });
    report.check(res.status === 202, `${kind} email ${i}: answered ${res.status}`);
  });
  const accepted = performance.now() - started;
  const mine = () => smtp.received.slice(from).filter((m) => m.to[0]?.startsWith(`${kind}-`));
  await smtp.waitFor(() => mine().length >= recipients.length, 300_000).catch(() => undefined);
  const arrived = mine();
  const ms = Math.max(...arrived.map((m) => m.receivedAt)) - started;
  const slowest = Math.max(...arrived.map((m) => m.receivedAt - (sentAt.get(m.to[0]!) ?? started)));
  checkArrivals(kind, recipients, arrived, finished, report);
  await new Promise((r) => setTimeout(r, TAIL_MS));
  const cpu = {
    herald: cpuSecondsSince(cpuBefore.herald, pids.herald),
    server: cpuSecondsSince(cpuBefore.server, pids.server),
  };
  return { ms, accepted, slowest, cpu };
}

/** Each recipient's email arrived once, with the subject and name of its own rendering. */
function checkArrivals(
  kind: Kind,
  recipients: number[],
  arrived: ReceivedMail[],
  finished: RenderedMessage[],
  report: Report,
) {
  const byAddress = new Map<string, ReceivedMail[]>();
  for (const mail of arrived) byAddress.set(mail.to[0]!, [...(byAddress.get(mail.to[0]!) ?? []), mail]);
  let wrong = 0;
  for (const i of recipients) {
    const mails = byAddress.get(address(kind, i)) ?? [];
    const ok =
      mails.length === 1 &&
      mails[0]!.subject === finished[i]!.subject &&
      (mails[0]!.html ?? '').includes(`Customer ${i},`);
    if (!ok) wrong++;
  }
  report.check(
    arrived.length === recipients.length && wrong === 0,
    `${kind} emails: ${arrived.length} arrived for ${recipients.length} recipients, ${wrong} missing, repeated or not as rendered`,
  );
}
