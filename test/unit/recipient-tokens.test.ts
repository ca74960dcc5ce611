import { issueRecipientToken, RECIPIENT_TOKEN_PREFIX } from '../../api/recipient-tokens';
import { verifyLink } from '../../domain/signed-links';

describe('recipient tokens', () => {
  const secret = 'a link-signing secret';

  it('are signed with a key of their own: no link check takes one', () => {
    const { token } = issueRecipientToken(secret, 't1', 'ada', 60_000);
    expect(verifyLink(secret, token.slice(RECIPIENT_TOKEN_PREFIX.length))).toBeUndefined();
  });

  it('expire on the second given back, no sooner than asked', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0, 400);
    const { token, expiresAt } = issueRecipientToken(secret, 't1', 'ada', 1000, now);
    expect(expiresAt.toISOString()).toBe('2026-01-01T12:00:02.000Z');
    const payload = JSON.parse(Buffer.from(token.slice(4).split('.')[0]!, 'base64url').toString('utf8'));
    expect(payload.exp * 1000).toBe(expiresAt.getTime());
  });
});
