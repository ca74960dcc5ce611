import { ACK_LINK_TTL_SECONDS, signLink } from '../domain/signed-links';

/** What signs the links a message carries, and where they point. */
export interface LinkSettings {
  secret: string;
  publicUrl: string;
}

export function acknowledgeUrl(
  links: LinkSettings,
  claim: { tenantId: string; notificationId: string; recipientId: string; channel: string },
  now = Date.now(),
): string {
  const token = signLink(links.secret, { purpose: 'ack', ...claim }, Math.floor(now / 1000) + ACK_LINK_TTL_SECONDS);
  return `${links.publicUrl}/ack/${token}`;
}

export function unsubscribeUrl(
  links: LinkSettings,
  claim: { tenantId: string; recipientId: string; category?: string },
): string {
  return `${links.publicUrl}/unsubscribe/${signLink(links.secret, { purpose: 'unsubscribe', ...claim })}`;
}
