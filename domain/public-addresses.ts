import ipaddr from 'ipaddr.js';

/**
 * Only globally routable unicast addresses: not private, loopback, link-local (cloud metadata lives
 * there), unique-local, carrier-grade NAT, multicast, reserved, nor IPv6 forms that embed an IPv4 one.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

const NOT_PUBLIC = 'which is not a public address';

/** A request to a tenant's URL that would reach a non-public address. */
export class PrivateAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, ${NOT_PUBLIC}; tenants' webhooks may not reach it`);
  }
}

/**
 * The refusal's message, when an error or one that caused it is one. Read from messages: fetch may
 * hand the refusal back as a plain error carrying only its text.
 */
export function privateAddressRefusal(error: unknown): string | undefined {
  for (let e = error; e instanceof Error || (e as Error | undefined)?.message; e = (e as Error).cause)
    if ((e as Error).message.includes(NOT_PUBLIC)) return (e as Error).message.replace(/^(Error: )+/, '');
  return undefined;
}

/** Refuses a URL whose host is written as a non-public address (those skip DNS, so the dispatcher never sees them). */
export function assertPublicUrl(url: string): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host) && !isPublicAddress(host)) throw new PrivateAddressError(host, host);
}
