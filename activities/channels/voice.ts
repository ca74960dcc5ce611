import type { ChannelPlugin } from './channel';

export const voiceChannel: ChannelPlugin = {
  channel: 'voice',
  // Spoken aloud: links and markup mean nothing on a call.
  render: (message) => ({ text: message.subject ? `${message.subject}. ${message.text}` : message.text }),
};
