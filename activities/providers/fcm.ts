import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { cert, initializeApp, deleteApp, applicationDefault, type App, type Credential } from 'firebase-admin/app';
import { getMessaging, type Message as FcmMessage, type Messaging } from 'firebase-admin/messaging';
import { oneLine } from './http';
import {
  InvalidAddressError,
  PermanentProviderError,
  ProviderRefusedError,
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from './provider';

export interface FcmSettings {
  projectId: string;
  /** A service account's JSON (or a path to it); without one, Google's application default credentials. */
  serviceAccount?: string;
  /** A bearer token minted elsewhere (a sidecar, a proxy that adds its own), instead of a service account. */
  accessToken?: string;
  /** Where firebase-admin's requests go instead of fcm.googleapis.com: a proxy or a loopback fake. */
  baseUrl?: string;
}

/**
 * firebase-admin hard-codes Google's hosts but takes an agent: this one opens every connection to the
 * base URL instead, over TLS when the base URL is https and in the clear when it is http.
 */
function baseUrlAgent(baseUrl: string): https.Agent {
  const url = new URL(baseUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new (class extends https.Agent {
    override createConnection(): net.Socket {
      return url.protocol === 'https:'
        ? tls.connect({ host: url.hostname, port, servername: url.hostname })
        : net.connect({ host: url.hostname, port });
    }
  })({ keepAlive: true });
}

function credential(settings: FcmSettings): Credential {
  if (settings.accessToken) {
    const token = settings.accessToken;
    return { getAccessToken: async () => ({ access_token: token, expires_in: 3600 }) };
  }
  if (settings.serviceAccount) {
    const json = settings.serviceAccount.trim();
    return cert(json.startsWith('{') ? JSON.parse(json) : json);
  }
  return applicationDefault();
}

let apps = 0;

/** Push through FCM HTTP v1 with firebase-admin: Android, iOS (through APNs) and web. */
export class FcmPushProvider implements Provider {
  readonly name = 'fcm';
  private readonly app: App;
  private readonly messaging: Messaging;

  constructor(settings: FcmSettings) {
    this.app = initializeApp(
      {
        projectId: settings.projectId,
        credential: credential(settings),
        ...(settings.baseUrl ? { httpAgent: baseUrlAgent(settings.baseUrl) } : {}),
      },
      `herald-fcm-${++apps}`,
    );
    this.messaging = getMessaging(this.app);
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const data = {
      ...message.data,
      notification_id: message.notificationId,
      ...(message.category ? { category: message.category } : {}),
    };
    const payload: FcmMessage = {
      token: message.to,
      notification: { title: message.subject, body: message.text },
      data,
      android: { priority: 'high' },
      apns: { payload: { aps: { sound: 'default' } } },
      webpush: message.actions?.[0] ? { fcmOptions: { link: message.actions[0].url } } : undefined,
    };
    try {
      const name = await this.messaging.send(payload);
      return { providerMessageId: name, status: 'sent' };
    } catch (error) {
      throw fcmFailure(error);
    }
  }

  async close(): Promise<void> {
    await deleteApp(this.app);
  }
}

const DEAD_TOKEN = new Set([
  'messaging/registration-token-not-registered',
  'messaging/invalid-registration-token',
  'messaging/mismatched-credential',
]);
const TRANSIENT = new Set([
  'messaging/server-unavailable',
  'messaging/internal-error',
  'messaging/message-rate-exceeded',
  'messaging/device-message-rate-exceeded',
  'messaging/unknown-error',
]);

function fcmFailure(error: unknown): Error {
  const code = (error as { code?: string }).code ?? '';
  const message = `fcm ${code || 'error'}: ${oneLine((error as Error).message)}`;
  if (DEAD_TOKEN.has(code)) return new InvalidAddressError(message);
  // FCM answers INVALID_ARGUMENT for a malformed token as well as a malformed message; the token is the usual one.
  if (code === 'messaging/invalid-argument' && /token/i.test((error as Error).message))
    return new InvalidAddressError(message);
  if (TRANSIENT.has(code) || code === '' || code.startsWith('app/')) return new TransientProviderError(message);
  if (code === 'messaging/third-party-auth-error' || code === 'messaging/authentication-error')
    return new ProviderRefusedError(message);
  return new PermanentProviderError(message);
}
