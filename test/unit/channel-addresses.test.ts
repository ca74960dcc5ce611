import { CHANNELS } from '../../domain/channels';
import { addressesOn, addressFieldsFor, missingAddressOn, reachableOn } from '../../domain/channel-addresses';

describe('channel addresses: where each channel reaches a contact', () => {
  const everything = {
    id: 'ada',
    email: 'ada@example.com',
    phone: '+14155550100',
    pushTokens: ['old-device', 'new-device'],
    telegramChatId: '42',
    slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x',
    discordWebhookUrl: 'https://discord.com/api/webhooks/1/x',
  };

  it('finds each channel its own field, the newest push token first', () => {
    expect(Object.fromEntries(CHANNELS.map((c) => [c, addressesOn(everything, c)]))).toEqual({
      email: ['ada@example.com'],
      sms: ['+14155550100'],
      voice: ['+14155550100'],
      push: ['new-device', 'old-device'],
      telegram: ['42'],
      slack: ['https://hooks.slack.com/services/T/B/x'],
      discord: ['https://discord.com/api/webhooks/1/x'],
      in_app: ['ada'],
      webhook: ['ada'],
    });
    // The contact's own list is left as it was.
    expect(everything.pushTokens).toEqual(['old-device', 'new-device']);
  });

  it('says a contact with only an id is reachable in the app and by webhook, and why not elsewhere', () => {
    const bare = { id: 'bo', email: '', pushTokens: [] };
    expect(CHANNELS.filter((c) => reachableOn(bare, c))).toEqual(['webhook', 'in_app']);
    expect(addressesOn(bare, 'email')).toEqual([]);
    expect(missingAddressOn('sms')).toBe('recipient has no phone number');
    expect(missingAddressOn('push')).toBe('recipient has no push token');
    expect(missingAddressOn('slack')).toBe('recipient has no Slack webhook URL');
  });

  it('names the fields that would make a contact reachable, each once', () => {
    expect(addressFieldsFor(['sms', 'voice', 'email', 'in_app'])).toEqual(['phone', 'email']);
  });
});
