import { lookup, type LookupAddress } from 'node:dns';
import { Agent } from 'undici';
import { isPublicAddress, PrivateAddressError } from '../../domain/public-addresses';

/**
 * An HTTP dispatcher that connects only to public addresses. The check runs on the addresses DNS gave
 * for this very connection, so a name that resolves elsewhere on a second lookup gains nothing.
 */
export function publicOnlyDispatcher(): Agent {
  return new Agent({ connect: { lookup: publicOnlyLookup as never } });
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** `dns.lookup`, failing when any address the name resolves to is not public. */
export function publicOnlyLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(new PrivateAddressError(hostname, refused.address), '', 0);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}
