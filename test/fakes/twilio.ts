import twilio from 'twilio';
import { FakeHttpProvider, fakeId, postTo, type RecordedRequest, type Reply } from './http-fake';

export const TWILIO_SID = 'AC00000000000000000000000000000001';
export const TWILIO_TOKEN = 'twilio-test-auth-token';

/** Twilio's REST API for Messages and Calls, with basic auth, and its signed status callbacks. */
export class FakeTwilio extends FakeHttpProvider {
  /** Every message or call created, by its sid, with the callback URL Herald asked for. */
  readonly created = new Map<
    string,
    { kind: 'message' | 'call'; to: string; body?: string; twiml?: string; callback?: string }
  >();

  protected answer(request: RecordedRequest): Reply {
    const auth = Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64');
    if (request.headers.authorization !== `Basic ${auth}`) return twilioError(401, 20003, 'Authenticate');
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(request.path);
    if (request.method !== 'POST' || !match || match[1] !== TWILIO_SID) return twilioError(404, 20404, 'Not found');
    const { To: to, Body: body, Twiml: twiml, StatusCallback: callback } = request.form;
    if (!to || !/^\+[1-9][0-9]{6,14}$/.test(to))
      return twilioError(
        400,
        match[2] === 'Calls' ? 13224 : 21211,
        `The 'To' number ${to} is not a valid phone number.`,
      );
    const kind = match[2] === 'Calls' ? 'call' : 'message';
    const sid = fakeId(kind === 'call' ? 'CA' : 'SM');
    this.created.set(sid, { kind, to, body, twiml, callback });
    return {
      status: 201,
      body: {
        sid,
        account_sid: TWILIO_SID,
        to,
        from: request.form.From,
        body,
        status: 'queued',
        date_created: new Date().toUTCString(),
      },
    };
  }

  /** Posts a status callback for `sid` to the URL Herald gave, signed as Twilio signs it. */
  async statusCallback(sid: string, status: string, extra: Record<string, string> = {}): Promise<number> {
    const created = this.created.get(sid);
    if (!created?.callback) throw new Error(`no status callback URL for ${sid}`);
    const params: Record<string, string> =
      created.kind === 'call'
        ? { AccountSid: TWILIO_SID, CallSid: sid, CallStatus: status, To: created.to, ...extra }
        : {
            AccountSid: TWILIO_SID,
            MessageSid: sid,
            SmsSid: sid,
            MessageStatus: status,
            SmsStatus: status,
            To: created.to,
            ...extra,
          };
    const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, created.callback, params);
    return postTo(created.callback, new URLSearchParams(params).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
    });
  }
}

/** Twilio's error body: a code from its error dictionary beside the HTTP status. */
export function twilioError(status: number, code: number, message: string): Reply {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}
