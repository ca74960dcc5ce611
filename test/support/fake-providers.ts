import { FakeChatWebhooks, FakeTelegram, FakeWebhookReceiver, TELEGRAM_BOT_TOKEN } from '../fakes/chat';
import { FakeFcm, FCM_PROJECT, FCM_TOKEN } from '../fakes/fcm';
import { FakeSendGrid, SENDGRID_KEY } from '../fakes/sendgrid';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { FakeTwilio, TWILIO_SID, TWILIO_TOKEN } from '../fakes/twilio';
import { FakeVonage, VONAGE_KEY, VONAGE_SECRET } from '../fakes/vonage';
import { eventually, startTestHerald } from './herald';
import { freePort } from './temporal';

/** Every provider Herald speaks to, on loopback, and the environment that points Herald at them. */
export async function startFakeProviders() {
  const [smtp, sendgrid, twilio, vonage, fcm, telegram, chat, receiver] = await Promise.all([
    new FakeSmtpServer().start(),
    new FakeSendGrid().start(),
    new FakeTwilio().start(),
    new FakeVonage().start(),
    new FakeFcm().start(),
    new FakeTelegram().start(),
    new FakeChatWebhooks().start(),
    new FakeWebhookReceiver().start(),
  ]);
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HERALD_PUBLIC_URL: `http://127.0.0.1:${port}`,
    SMTP_URL: smtp.url,
    EMAIL_FROM: 'Herald <alerts@herald.test>',
    SENDGRID_API_KEY: SENDGRID_KEY,
    SENDGRID_API_BASE_URL: sendgrid.url,
    SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey,
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_FROM: '+14155550000',
    TWILIO_API_BASE_URL: twilio.url,
    VONAGE_API_KEY: VONAGE_KEY,
    VONAGE_API_SECRET: VONAGE_SECRET,
    VONAGE_FROM: 'Herald',
    VONAGE_API_BASE_URL: vonage.url,
    FCM_PROJECT_ID: FCM_PROJECT,
    FCM_ACCESS_TOKEN: FCM_TOKEN,
    FCM_API_BASE_URL: fcm.url,
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_API_BASE_URL: telegram.url,
    SLACK_API_BASE_URL: chat.url,
    DISCORD_API_BASE_URL: chat.url,
  };
  return {
    smtp,
    sendgrid,
    twilio,
    vonage,
    fcm,
    telegram,
    chat,
    receiver,
    env,
    port,
    async stop() {
      await Promise.all([smtp, sendgrid, twilio, vonage, fcm, telegram, chat, receiver].map((f) => f.stop()));
    },
  };
}

export type FakeProviders = Awaited<ReturnType<typeof startFakeProviders>>;

/** Herald on every fake provider, listening where the fakes send receipts, with a tenant and the calls tests make. */
export async function startHeraldOnFakes(env: Record<string, string> = {}) {
  const fakes = await startFakeProviders();
  const herald = await startTestHerald({ ...fakes.env, ...env });
  await herald.api.listen({ port: fakes.port, host: '127.0.0.1' });
  const tenant = await herald.createTenant();
  const notify = async (body: object) => {
    const res = await herald.api.inject({ method: 'POST', url: '/notify', headers: tenant.auth, payload: body });
    if (res.statusCode !== 202) throw new Error(`POST /notify answered ${res.statusCode}: ${res.body}`);
    return res.json().notification_id as string;
  };
  const status = (id: string): Promise<StatusBody> =>
    herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }).then((r) => r.json());
  const settled = (id: string) =>
    eventually(
      () => status(id),
      (s) => !['accepted', 'sending'].includes(s.status),
      40_000,
    );
  return {
    fakes,
    herald,
    tenant,
    notify,
    status,
    settled,
    async stop() {
      await herald.stop();
      await fakes.stop();
    },
  };
}

export type HeraldOnFakes = Awaited<ReturnType<typeof startHeraldOnFakes>>;

/** GET /status as the tests read it. */
export interface StatusBody {
  status: string;
  deliveries: {
    recipient_id: string;
    channel: string;
    status: string;
    provider?: string;
    providers_tried?: string[];
    provider_message_id?: string;
    attempts?: number;
    error?: string;
  }[];
}
