import { overallStatus, receiptOutcome, type Delivery } from '../../domain/notification';
import { channelTaskQueue, DELIVERY_RETRY, retryDelayMs } from '../../domain/delivery-policy';

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
  it('backs off 1, 2, 4, 8 and 16 s across six tries, in the workflow as in the retry policy', () => {
    const { initialInterval, backoffCoefficient, maximumInterval, maximumAttempts } = DELIVERY_RETRY;
    const policy = Array.from({ length: maximumAttempts! - 1 }, (_, i) =>
      Math.min(Number(initialInterval) * backoffCoefficient! ** i, Number(maximumInterval)),
    );
    expect(policy).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect([1, 2, 3, 4, 5, 6].map(retryDelayMs)).toEqual([...policy, 16000]);
  });
  it('names a task queue per channel', () => {
    expect(channelTaskQueue('herald', 'sms')).toBe('herald.sms');
  });
});
