import ipaddr from 'ipaddr.js';

/** IPv6's global unicast space: anything outside it (IPv4-compatible `::a.b.c.d` included) is not the internet. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * Only globally routable unicast addresses: not private, loopback, link-local (cloud metadata lives
 * there), unique-local, carrier-grade NAT, multicast, reserved, nor IPv6 forms that embed an IPv4 one.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return false;
  return parsed.range() === 'unicast';
}

const NOT_PUBLIC = 'not a public address';

/** A request to a tenant's URL that would reach a non-public address. */
export class PrivateAddressError extends Error {
  /** `address` alone when the URL names the address itself, else the name that resolved to it. */
  constructor(address: string, host?: string) {
    super(
      `${host ? `${host} resolves to ${address}, which is` : `${address} is`} ${NOT_PUBLIC}; tenants' webhooks may not reach it`,
    );
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

/**
 * The refusal of a host that is itself a non-public address (an IPv6 one with or without brackets), or
 * undefined for a name or a public address. Hosts come from parsed URLs, which write every IPv4 notation
 * (decimal, hex, octal, short) as four decimal parts: no notation slips past.
 */
export function literalAddressRefusal(host: string): PrivateAddressError | undefined {
  const address = host.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(address) && !isPublicAddress(address) ? new PrivateAddressError(address) : undefined;
}

/** Refuses a URL whose host is written as a non-public address (those skip DNS, so a lookup check never sees them). */
export function assertPublicUrl(url: string): void {
  const refusal = literalAddressRefusal(new URL(url).hostname);
  if (refusal) throw refusal;
}
