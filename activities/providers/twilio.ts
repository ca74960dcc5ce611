import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import RestException from 'twilio/lib/base/RestException';
import { oneLine, PROVIDER_TIMEOUT_MS } from './http';
import {
  PermanentProviderError,
  ProviderRefusedError,
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from './provider';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** The sending number, or a Messaging Service SID (`MG…`) that picks one. */
  from: string;
  /** Where the Twilio SDK's requests go: a regional endpoint, a proxy or a loopback fake. */
  baseUrl?: string;
  /** Herald's public address of POST /webhook/twilio, for status callbacks. */
  statusCallbackUrl?: string;
}

/** Sends every request of the SDK to the configured base URL instead of api.twilio.com. */
class BaseUrlRequestClient extends RequestClient {
  constructor(private readonly baseUrl: string) {
    super({ timeout: PROVIDER_TIMEOUT_MS });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const url = new URL(opts.uri);
    return super.request({ ...opts, uri: new URL(`${url.pathname}${url.search}`, this.baseUrl).href });
  }
}

export function twilioClient(settings: TwilioSettings) {
  return twilio(settings.accountSid, settings.authToken, {
    httpClient: settings.baseUrl
      ? new BaseUrlRequestClient(settings.baseUrl)
      : new RequestClient({ timeout: PROVIDER_TIMEOUT_MS }),
  });
}

type TwilioClient = ReturnType<typeof twilioClient>;

/** Twilio error codes that are about the recipient, not about Twilio or Herald. */
const RECIPIENT_ERRORS = new Set([
  21211, // invalid 'To' number
  21214, // 'To' number cannot be reached
  21408, // no permission to send to that region
  21610, // the recipient replied STOP
  21612, // 'To' number unreachable via this route
  21614, // 'To' is not a mobile number
  13224, // invalid phone number for calls
]);

/** Sorts a Twilio SDK failure into permanent, provider-refused or transient. */
export function twilioFailure(error: unknown): Error {
  if (!(error instanceof RestException))
    return new TransientProviderError(`twilio unreachable: ${oneLine((error as Error).message)}`);
  const message = `twilio ${error.status} (${error.code ?? 'no code'}): ${oneLine(error.message)}`;
  if (error.status === 429 || error.status >= 500 || error.code === 20429) return new TransientProviderError(message);
  if (error.code !== undefined && RECIPIENT_ERRORS.has(error.code)) return new PermanentProviderError(message);
  if (error.status === 401 || error.status === 403) return new ProviderRefusedError(message);
  return new PermanentProviderError(message);
}

function sender(from: string): { from: string } | { messagingServiceSid: string } {
  return from.startsWith('MG') ? { messagingServiceSid: from } : { from };
}

/** SMS through Twilio's Messages API; the status callback reports delivery. */
export class TwilioSmsProvider implements Provider {
  readonly name = 'twilio';
  constructor(
    private readonly settings: TwilioSettings,
    private readonly client: TwilioClient = twilioClient(settings),
  ) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    try {
      const sent = await this.client.messages.create({
        to: message.to,
        body: message.text,
        ...sender(this.settings.from),
        ...(this.settings.statusCallbackUrl ? { statusCallback: this.settings.statusCallbackUrl } : {}),
      });
      return { providerMessageId: sent.sid, status: 'sent' };
    } catch (error) {
      throw twilioFailure(error);
    }
  }
}

/** A phone call that speaks the message, through Twilio's Calls API; the status callback tells if it was answered. */
export class TwilioVoiceProvider implements Provider {
  readonly name = 'twilio-voice';
  constructor(
    private readonly settings: TwilioSettings,
    private readonly client: TwilioClient = twilioClient(settings),
  ) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    const response = new twilio.twiml.VoiceResponse();
    // Said twice: the first words of a call are often lost while the phone reaches an ear.
    response.say(message.text);
    response.pause({ length: 1 });
    response.say(message.text);
    try {
      const call = await this.client.calls.create({
        to: message.to,
        from: this.settings.from,
        twiml: response.toString(),
        ...(this.settings.statusCallbackUrl
          ? { statusCallback: this.settings.statusCallbackUrl, statusCallbackEvent: ['completed'] }
          : {}),
      });
      return { providerMessageId: call.sid, status: 'sent' };
    } catch (error) {
      throw twilioFailure(error);
    }
  }
}
