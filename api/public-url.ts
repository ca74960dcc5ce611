import { lookup } from 'node:dns/promises';
import { assertPublicUrl, isPublicAddress } from '../domain/public-addresses';
import { Problem } from './problems';

/**
 * 422 naming the field unless the URL's host is, or resolves only to, public addresses. The worker
 * checks again at every send, on the addresses it connects to: DNS may change in between.
 */
export async function requirePublicUrl(url: string, field: string): Promise<void> {
  const refuse = (detail: string) => new Problem(422, 'Address not allowed', detail, field);
  try {
    assertPublicUrl(url);
  } catch (error) {
    throw refuse((error as Error).message);
  }
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch {
    throw refuse(`${host} does not resolve`);
  }
  const inside = addresses.find((a) => !isPublicAddress(a.address));
  if (inside) throw refuse(`${host} resolves to ${inside.address}, which is not a public address`);
}
