import { FakeHttpProvider, type RecordedRequest, type Reply } from './http-fake';

export const FCM_PROJECT = 'herald-test';
export const FCM_TOKEN = 'ya29.fake-access-token';

/** FCM HTTP v1 `messages:send`, with the bearer token checked and tokens that can be made unregistered. */
export class FakeFcm extends FakeHttpProvider {
  /** Device tokens FCM no longer knows: sends to them answer 404 UNREGISTERED. */
  readonly unregistered = new Set<string>();
  private sequence = 0;

  protected answer(request: RecordedRequest): Reply {
    if (request.headers.authorization !== `Bearer ${FCM_TOKEN}`)
      return fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    if (request.method !== 'POST' || request.path !== `/v1/projects/${FCM_PROJECT}/messages:send`)
      return fcmError(404, 'NOT_FOUND', 'Requested entity was not found.');
    const token = (request.json as { message?: { token?: string } })?.message?.token;
    if (!token)
      return fcmError(
        400,
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
        'INVALID_ARGUMENT',
      );
    if (this.unregistered.has(token))
      return fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    return { status: 200, body: { name: `projects/${FCM_PROJECT}/messages/0:${Date.now()}%${++this.sequence}` } };
  }

  /** Messages sent, as the `message` objects FCM received. */
  messages(): { token: string; notification?: { title?: string; body?: string }; data?: Record<string, string> }[] {
    return this.received(/messages:send$/).map((r) => (r.json as { message: never }).message);
  }
}

/** FCM v1's error body: a Google API status with the FCM error code in its details. */
export function fcmError(code: number, status: string, message: string, fcmCode?: string): Reply {
  return {
    status: code,
    body: {
      error: {
        code,
        message,
        status,
        ...(fcmCode
          ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: fcmCode }] }
          : {}),
      },
    },
  };
}
