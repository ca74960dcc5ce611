import { FakeHttpProvider, fakeId, type RecordedRequest, type Reply } from './http-fake';

export const VONAGE_KEY = 'vonage-key';
export const VONAGE_SECRET = 'vonage-secret';

/** Vonage's SMS API: form-encoded in, 200 with a status per message part out, even for a rejection. */
export class FakeVonage extends FakeHttpProvider {
  protected answer(request: RecordedRequest): Reply {
    if (request.path !== '/sms/json') return { status: 404, body: 'not found' };
    const { api_key, api_secret, to, text } = request.form;
    if (api_key !== VONAGE_KEY || api_secret !== VONAGE_SECRET) return vonageStatus('4', 'Bad Credentials');
    if (!to || !text) return vonageStatus('2', 'Missing to or text');
    return {
      status: 200,
      body: {
        'message-count': '1',
        messages: [
          {
            to,
            'message-id': fakeId('', 18).toUpperCase(),
            status: '0',
            'remaining-balance': '10.0',
            network: '12345',
          },
        ],
      },
    };
  }
}

/** A rejected message as Vonage reports it: HTTP 200, and the verdict in the part's status. */
export function vonageStatus(status: string, errorText: string): Reply {
  return { status: 200, body: { 'message-count': '1', messages: [{ status, 'error-text': errorText }] } };
}
