import { signReceipt, verifyReceiptSignature } from '../../domain/webhook-signature';

describe('receipt signatures', () => {
  const body = Buffer.from('{"provider_message_id":"m1","status":"delivered"}');
  const now = 1_800_000_000;
  const signature = signReceipt('secret', now, body);

  it('verifies a signature over timestamp and body', () => {
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyReceiptSignature('secret', String(now), signature, body, now + 10)).toBe(true);
  });
  it('refuses another secret, another body, another timestamp, or none', () => {
    expect(verifyReceiptSignature('other', String(now), signature, body, now)).toBe(false);
    expect(verifyReceiptSignature('secret', String(now), signature, Buffer.from('{}'), now)).toBe(false);
    expect(verifyReceiptSignature('secret', String(now + 1), signature, body, now)).toBe(false);
    expect(verifyReceiptSignature('secret', undefined, signature, body, now)).toBe(false);
    expect(verifyReceiptSignature('secret', String(now), undefined, body, now)).toBe(false);
  });
  it('refuses a signature older than five minutes', () => {
    expect(verifyReceiptSignature('secret', String(now), signature, body, now + 301)).toBe(false);
  });
});
