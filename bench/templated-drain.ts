/**
 * The typical templated email drained through Herald against the same emails with finished text:
 * each recipient's message rendered here beforehand, so both carry the same subject, HTML and text to
 * the same SMTP server, and only rendering at send time differs.
 */
import type { FakeSmtpServer, ReceivedMail } from '../test/fakes/smtp-server';
import { pool } from '../domain/pool';
import { CompiledTemplateCache, checkTemplate, renderTemplate, type RenderedMessage } from '../domain/templates/render';
import type { Report } from './report';
import { ORDER_SHIPPED, orderData, recipientLocale } from './template-fixture';

const TEMPLATE_KEY = 'bench-order-shipped';
const CONCURRENCY = 16;
const WARM_UP = 50;
/** Text and template in turn, each pair in both orders: a drift of the machine weighs on both alike. */
const ROUNDS: Kind[] = ['text', 'template', 'template', 'text', 'text', 'template', 'template', 'text'];

type Kind = 'text' | 'template';

export interface Herald {
  base: string;
  auth: Record<string, string>;
  smtp: FakeSmtpServer;
}

export interface TemplatedDrain {
  /** Deliveries a minute, accept to last send, of each kind over all its rounds. */
  textPerMinute: number;
  templatePerMinute: number;
}

/**
 * `count` emails of each kind, a quarter of them a round. Every email is checked: arrived once,
 * rendered in its recipient's language.
 */
export async function templatedDrain(herald: Herald, count: number, report: Report): Promise<TemplatedDrain> {
  const saved = await fetch(`${herald.base}/templates/${TEMPLATE_KEY}`, {
    method: 'PUT',
    headers: herald.auth,
    body: JSON.stringify(ORDER_SHIPPED),
  });
  report.check(saved.status === 201 || saved.status === 200, `template: saving answered ${saved.status}`);
  const { compiledEmailHtml } = await checkTemplate(ORDER_SHIPPED, {});
  const cache = new CompiledTemplateCache();
  const finished: RenderedMessage[] = [];
  for (let i = 0; i < count + WARM_UP; i++) {
    const { locale, timezone: timeZone } = recipientLocale(i);
    const data = orderData(i);
    const job = { content: ORDER_SHIPPED, compiledEmailHtml, channel: 'email' as const, data, locale, timeZone };
    finished.push((await renderTemplate({ ...job, sources: {}, cacheKey: 'finished' }, cache)).message);
  }

  // Render threads start, and load MJML, with Herald's first template, and sends right after start-up
  // ran slower than later ones: both paid before the rounds.
  await round(herald, 'template', range(count, WARM_UP), finished, report);
  await round(herald, 'text', range(count, WARM_UP), finished, report);

  const totals = { text: { sent: 0, ms: 0 }, template: { sent: 0, ms: 0 } };
  const perRound = Math.ceil((2 * count) / ROUNDS.length);
  const next = { text: 0, template: 0 };
  for (const kind of ROUNDS) {
    const recipients = range(next[kind], Math.min(perRound, count - next[kind]));
    next[kind] += recipients.length;
    const ms = await round(herald, kind, recipients, finished, report);
    console.log(
      `  templates: a round of ${recipients.length} ${kind} emails drained at ${Math.round((recipients.length / ms) * 60_000)} /min`,
    );
    totals[kind].ms += ms;
    totals[kind].sent += recipients.length;
  }
  const perMinute = ({ sent, ms }: { sent: number; ms: number }) => (sent / ms) * 60_000;
  return { textPerMinute: perMinute(totals.text), templatePerMinute: perMinute(totals.template) };
}

const range = (from: number, length: number) => Array.from({ length }, (_, i) => from + i);
const address = (kind: Kind, i: number) => `${kind}-${i}@bench.test`;

/** Sends one email to each recipient, waits for all of them, and returns ms from the first accept to the last send. */
async function round(herald: Herald, kind: Kind, recipients: number[], finished: RenderedMessage[], report: Report) {
  const { smtp } = herald;
  const from = smtp.received.length;
  const started = performance.now();
  await pool(recipients.length, CONCURRENCY, async (n) => {
    const i = recipients[n]!;
    const { subject, text, html } = finished[i]!;
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
  const mine = () => smtp.received.slice(from).filter((m) => m.to[0]?.startsWith(`${kind}-`));
  await smtp.waitFor(() => mine().length >= recipients.length, 300_000).catch(() => undefined);
  const arrived = mine();
  const last = Math.max(...arrived.map((m) => m.receivedAt));
  checkArrivals(kind, recipients, arrived, finished, report);
  return last - started;
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
