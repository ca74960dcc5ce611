import { isAddress, pseudonymOf } from '../../domain/recipient-pseudonym';

describe('the pseudonym of an inline recipient without an id', () => {
  it('is the same for the same address, whatever its case, and tells nothing of it', () => {
    const id = pseudonymOf('key-1', 'Ada.Lovelace@Example.com');
    expect(id).toBe(pseudonymOf('key-1', ' ada.lovelace@example.com'));
    expect(id).toMatch(/^anon_[0-9a-f]{32}$/);
    expect(id).not.toContain('ada');
    expect(pseudonymOf('key-2', 'ada.lovelace@example.com')).not.toBe(id);
    expect(pseudonymOf('key-1', '+14155550100')).not.toBe(pseudonymOf('key-1', '+14155550101'));
  });

  it('replaces ids that were addresses: emails and E.164 numbers, not other ids', () => {
    expect(['ada@example.com', '+14155550100'].every(isAddress)).toBe(true);
    expect(['ada', 'recipient-1', 'anon_0123', '+1 415'].some(isAddress)).toBe(false);
  });
});
