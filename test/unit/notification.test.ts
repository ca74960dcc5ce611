import { overallStatus, receiptOutcome, type Delivery } from '../../domain/notification';
import { channelTaskQueue, DELIVERY_RETRY } from '../../domain/delivery-policy';

const d = (status: Delivery['status']) => ({ status });

describe('overallStatus', () => {
  it.each([
    [['pending', 'delivered'], 'sending'],
    [['sending'], 'sending'],
    [['sent', 'delivered'], 'delivered'],
    [['delivered', 'failed'], 'partially_delivered'],
    [['failed', 'failed'], 'failed'],
    [['cancelled', 'cancelled'], 'cancelled'],
    [['failed', 'cancelled'], 'failed'],
  ] as const)('%j → %s', (statuses, expected) => {
    expect(overallStatus(statuses.map(d))).toBe(expected);
  });
});

describe('receiptOutcome', () => {
  it('confirms a delivered receipt and clears any error', () => {
    expect(receiptOutcome({ providerMessageId: 'm', status: 'delivered' })).toEqual({
      status: 'delivered',
      error: undefined,
    });
  });
  it("fails any other receipt with the provider's reason, or the status when none is given", () => {
    expect(receiptOutcome({ providerMessageId: 'm', status: 'bounced', error: 'mailbox full' })).toEqual({
      status: 'failed',
      error: 'mailbox full',
    });
    expect(receiptOutcome({ providerMessageId: 'm', status: 'undelivered' })).toEqual({
      status: 'failed',
      error: 'undelivered',
    });
  });
});

describe('delivery policy', () => {
  it('backs off 1, 2, 4, 8 and 16 s across six tries', () => {
    const { initialInterval, backoffCoefficient, maximumAttempts } = DELIVERY_RETRY;
    const delays = Array.from(
      { length: maximumAttempts! - 1 },
      (_, i) => parseInt(String(initialInterval)) * backoffCoefficient! ** i,
    );
    expect(delays).toEqual([1, 2, 4, 8, 16]);
  });
  it('names a task queue per channel', () => {
    expect(channelTaskQueue('herald', 'sms')).toBe('herald.sms');
  });
});
