import { lookup, type LookupAddress } from 'node:dns';
import { Agent, buildConnector } from 'undici';
import { isPublicAddress, literalAddressRefusal, PrivateAddressError } from '../../domain/public-addresses';

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback) => void;

/**
 * The guard on every request to a URL a tenant chooses: an HTTP dispatcher that connects only to
 * public addresses. It checks each connection it opens, whatever URL led there: a host written as an
 * address before connecting, a name on the addresses DNS gave for this very connection (so a name
 * that resolves elsewhere on a second lookup gains nothing). `resolve` is that checked lookup.
 */
export function publicOnlyDispatcher(resolve: Lookup = publicOnlyLookup): Agent {
  const connect = buildConnector({ lookup: resolve as never });
  return new Agent({
    connect: (options, callback) => {
      // Addresses skip the lookup: Node connects to them directly.
      const refusal = literalAddressRefusal(options.hostname);
      if (refusal) return callback(refusal, null);
      return connect(options, callback);
    },
  });
}

/** `dns.lookup`, failing when any address the name resolves to is not public. */
export function publicOnlyLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(new PrivateAddressError(refused.address, hostname), '', 0);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}
