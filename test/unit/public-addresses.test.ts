import { promisify } from 'node:util';
import { publicOnlyLookup } from '../../activities/providers/public-addresses';
import { assertPublicUrl, isPublicAddress } from '../../domain/public-addresses';

describe('public addresses (the SSRF guard on tenants’ webhooks)', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.9',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
    '::7f00:1',
    '::a9fe:a9fe',
    '::ffff:0:7f00:1',
    '100::1',
    'not-an-address',
  ])('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => expect(isPublicAddress(address)).toBe(true),
  );

  it('refuses URLs whose host is written as a private address, in any notation', () => {
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://[::1]/x',
      'http://169.254.169.254/latest/meta-data',
      'http://2130706433/x',
      'http://0x7f000001/x',
      'http://0x7f.1/x',
      'http://0177.0.0.1/x',
      'http://017700000001/x',
      'http://127.1/x',
      'http://127.0.0.1./x',
      'http://%31%32%37.0.0.1/x',
      'http://169.254.43518/latest/meta-data',
      'http://[::ffff:127.0.0.1]/x',
      'http://[0:0:0:0:0:ffff:a9fe:a9fe]/x',
      'http://[::127.0.0.1]/x',
      'http://[fd00::1]/x',
    ])
      expect(() => assertPublicUrl(url)).toThrow(/not a public address/);
    expect(() => assertPublicUrl('https://8.8.8.8/hook')).not.toThrow();
    expect(() => assertPublicUrl('https://hooks.example.com/hook')).not.toThrow();
  });

  it('fails the lookup of a name that resolves to a private address, and passes a public one through', async () => {
    const lookup = promisify((host: string, all: boolean, cb: (e: Error | null, a?: unknown) => void) =>
      publicOnlyLookup(host, { all }, (error, address, family) => cb(error, { address, family })),
    );
    await expect(lookup('localhost', false)).rejects.toThrow(/localhost resolves to .* not a public address/);
    await expect(lookup('8.8.8.8', false)).resolves.toEqual({ address: '8.8.8.8', family: 4 });
    await expect(lookup('8.8.8.8', true)).resolves.toEqual({ address: [{ address: '8.8.8.8', family: 4 }] });
  });
});
