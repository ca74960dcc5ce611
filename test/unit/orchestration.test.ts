import { localTimeToInstant, quietHoursEnd } from '../../domain/local-time';
import { plannedStatus, type Delivery } from '../../domain/notification';
import { durationMs, planSteps, recipientReached } from '../../domain/orchestration';
import { channelAllowed, unsubscribed } from '../../domain/preferences';
import { signLink, verifyLink } from '../../domain/signed-links';

const at = (iso: string) => new Date(iso);

describe('quiet hours', () => {
  const night = { start: '22:00', end: '07:00' };

  it('ends them in the morning when they span midnight, in the recipient’s zone', () => {
    // 23:30 in Paris on a winter night: quiet until 07:00 Paris, 06:00 UTC.
    expect(quietHoursEnd(at('2026-12-01T22:30:00Z'), night, 'Europe/Paris')?.toISOString()).toBe(
      '2026-12-02T06:00:00.000Z',
    );
    // 05:00 in Paris: the same night, ending the same morning.
    expect(quietHoursEnd(at('2026-12-02T04:00:00Z'), night, 'Europe/Paris')?.toISOString()).toBe(
      '2026-12-02T06:00:00.000Z',
    );
  });

  it('is undefined outside the window, at its end, and for an empty window', () => {
    expect(quietHoursEnd(at('2026-12-01T12:00:00Z'), night, 'UTC')).toBeUndefined();
    expect(quietHoursEnd(at('2026-12-01T07:00:00Z'), night, 'UTC')).toBeUndefined();
    expect(quietHoursEnd(at('2026-12-01T12:00:00Z'), { start: '09:00', end: '09:00' }, 'UTC')).toBeUndefined();
  });

  it('handles a window within one day and a daylight-saving change', () => {
    expect(quietHoursEnd(at('2026-06-01T13:30:00Z'), { start: '13:00', end: '14:00' }, 'UTC')?.toISOString()).toBe(
      '2026-06-01T14:00:00.000Z',
    );
    // New York springs forward on 2026-03-08: 07:00 that morning is 11:00 UTC, not 12:00.
    expect(quietHoursEnd(at('2026-03-08T05:00:00Z'), night, 'America/New_York')?.toISOString()).toBe(
      '2026-03-08T11:00:00.000Z',
    );
  });
});

describe('local send times', () => {
  it('reads a wall-clock time in a zone', () => {
    expect(localTimeToInstant('2026-07-01T09:00', 'Asia/Tokyo').toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(localTimeToInstant('2026-01-15T09:00', 'Europe/Paris').toISOString()).toBe('2026-01-15T08:00:00.000Z');
  });

  it('refuses a date that does not exist', () => {
    expect(() => localTimeToInstant('2026-02-30T09:00', 'UTC')).toThrow(RangeError);
  });
});

describe('preferences', () => {
  it('lets the most specific switch win, below a global off that nothing overrides', () => {
    const prefs = {
      channels: { sms: false },
      categories: { alerts: { channels: { sms: true } }, news: { enabled: false } },
    };
    expect(channelAllowed(prefs, undefined, 'sms')).toBe(false);
    expect(channelAllowed(prefs, 'alerts', 'sms')).toBe(true);
    expect(channelAllowed(prefs, 'news', 'email')).toBe(false);
    expect(channelAllowed(prefs, 'other', 'email')).toBe(true);
    expect(channelAllowed({ ...prefs, enabled: false }, 'alerts', 'sms')).toBe(false);
    expect(channelAllowed({}, 'any', 'push')).toBe(true);
  });

  it('unsubscribes from a category, or from everything without one', () => {
    expect(unsubscribed({ categories: { news: { channels: { sms: true } } } }, 'news')).toEqual({
      categories: { news: { channels: { sms: true }, enabled: false } },
    });
    expect(unsubscribed({ channels: { sms: false } }, undefined)).toEqual({ channels: { sms: false }, enabled: false });
  });
});

describe('steps and outcomes', () => {
  const d = (status: Delivery['status'], step = 0, recipientId = 'r'): Delivery => ({
    recipientId,
    channel: 'email',
    status,
    attempts: 1,
    step,
  });

  it('plans primaries, then the fallback, then escalation', () => {
    const steps = planSteps(
      ['push'],
      { channels: ['sms'], afterMs: 1000, unless: 'delivered' },
      { steps: [{ afterMs: 60_000, channels: ['voice'], unless: 'acknowledged' }], repeat: 0 },
    );
    expect(steps.map((s) => [s.kind, s.channels, s.afterMs])).toEqual([
      ['primary', ['push'], 0],
      ['fallback', ['sms'], 1000],
      ['escalation', ['voice'], 60_000],
    ]);
  });

  it('judges conditions by strategy: any primary, or all of them unless a later step stood in', () => {
    const mixed = [d('delivered'), d('failed')];
    expect(recipientReached(mixed, 'delivered', 'any')).toBe(true);
    expect(recipientReached(mixed, 'delivered', 'all')).toBe(false);
    expect(recipientReached([...mixed, d('sent', 1)], 'sent', 'all')).toBe(true);
    expect(recipientReached([d('sent')], 'delivered', 'any')).toBe(false);
    expect(recipientReached([d('clicked')], 'opened', 'any')).toBe(true);
  });

  it('reports a recipient reached by a fallback as delivered, an opted-out one not at all', () => {
    expect(plannedStatus([d('failed'), d('delivered', 1)])).toBe('delivered');
    expect(plannedStatus([d('failed'), d('delivered'), d('suppressed', 0, 'other')])).toBe('partially_delivered');
    expect(plannedStatus([d('suppressed'), d('delivered', 0, 'other')])).toBe('delivered');
    expect(plannedStatus([d('suppressed')])).toBe('suppressed');
    expect(plannedStatus([d('cancelled')])).toBe('cancelled');
    expect(plannedStatus([d('failed')])).toBe('failed');
    expect(plannedStatus([d('delivered'), d('pending', 1)])).toBe('sending');
  });

  it('reads durations', () => {
    expect([durationMs('250ms'), durationMs('90s'), durationMs('5m'), durationMs('2h'), durationMs('1d')]).toEqual([
      250, 90_000, 300_000, 7_200_000, 86_400_000,
    ]);
    expect(() => durationMs('5 minutes')).toThrow(RangeError);
  });
});

describe('signed links', () => {
  const secret = 'link-secret-for-unit-tests-0123456789';
  const claim = { purpose: 'ack' as const, tenantId: 't', notificationId: 'n', recipientId: 'r', channel: 'sms' };

  it('carries its claim and refuses another secret, an altered payload and an expired link', () => {
    const token = signLink(secret, claim, 2_000);
    expect(verifyLink(secret, token, 1_000)).toMatchObject(claim);
    expect(verifyLink('another-secret-of-enough-length-000000', token, 1_000)).toBeUndefined();
    const [payload, mac] = token.split('.');
    const altered = Buffer.from(JSON.stringify({ ...claim, tenantId: 'other' })).toString('base64url');
    expect(verifyLink(secret, `${altered}.${mac}`, 1_000)).toBeUndefined();
    expect(verifyLink(secret, `${payload}.${mac}x`, 1_000)).toBeUndefined();
    expect(verifyLink(secret, token, 3_000)).toBeUndefined();
    expect(verifyLink(secret, 'garbage', 1_000)).toBeUndefined();
  });

  it('lets an unsubscribe link live without an expiry', () => {
    const token = signLink(secret, { purpose: 'unsubscribe', tenantId: 't', recipientId: 'r', category: 'news' });
    expect(verifyLink(secret, token, 4_000_000_000)).toMatchObject({ purpose: 'unsubscribe', category: 'news' });
  });
});
