import type { ChannelPlugin } from './channel';

const SUBJECT_LENGTH = 78;

export const emailChannel: ChannelPlugin = {
  channel: 'email',
  addressOf: (contact) => contact.email,
  missingAddress: 'recipient has no email address',
  render: (message) => ({
    subject: message.subject ?? firstLine(message.text),
    text: message.text,
    html: message.html,
  }),
};

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > SUBJECT_LENGTH ? `${line.slice(0, SUBJECT_LENGTH - 1)}…` : line;
}
