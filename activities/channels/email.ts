import { withActionLinks, type ChannelPlugin } from './channel';

const SUBJECT_LENGTH = 78;

export const emailChannel: ChannelPlugin = {
  channel: 'email',
  render: (message) => ({
    subject: message.subject ?? firstLine(message.text),
    text: withActionLinks(message.text, message.actions),
    html: message.html,
  }),
};

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > SUBJECT_LENGTH ? `${line.slice(0, SUBJECT_LENGTH - 1)}…` : line;
}
