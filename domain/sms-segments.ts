import { SegmentedMessage } from 'sms-segments-calculator';

export interface SmsSegments {
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

/** How many SMS parts a text costs and in which encoding: one emoji turns 160 characters a part into 70. */
export function smsSegments(text: string): SmsSegments {
  const message = new SegmentedMessage(text, 'auto');
  return { segments: message.segmentsCount, encoding: message.encodingName === 'UCS-2' ? 'UCS-2' : 'GSM-7' };
}
