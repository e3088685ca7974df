/**
 * The client's address behind reverse proxies, with proxy-addr's semantics, for REST (Fastify's
 * `trustProxy`) and the Socket.IO handshake alike: walk `X-Forwarded-For` from the nearest hop
 * (the TCP peer) outwards while the hop is a trusted proxy, and take the first address that is not.
 * A client can write anything into the header, but only its own entries lie beyond the nearest
 * untrusted address, so rotating or forging them changes nothing.
 */
import proxyaddr from '@fastify/proxy-addr';

/** TRUST_PROXY parsed: none, the nearest N hops, or the proxies' addresses/CIDRs. */
export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; addresses: readonly string[] };

export type TrustFn = (address: string, hop: number) => boolean;

/**
 * Parses TRUST_PROXY: `false` (and off/no/0-like words), `true` (one proxy in front: the TCP peer),
 * a hop count, or comma-separated addresses/CIDRs (`loopback`, `linklocal`, `uniquelocal` allowed).
 */
export function parseTrustProxy(raw: string | undefined): { ok: true; value: TrustProxy } | { ok: false; error: string } {
  const text = (raw ?? 'false').trim().toLowerCase();
  if (['false', 'off', 'no'].includes(text)) return { ok: true, value: { kind: 'none' } };
  if (['true', 'on', 'yes'].includes(text)) return { ok: true, value: { kind: 'hops', hops: 1 } };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 32) return { ok: false, error: 'a hop count must be at most 32' };
    return { ok: true, value: hops === 0 ? { kind: 'none' } : { kind: 'hops', hops } };
  }
  const addresses = text.split(',').map((a) => a.trim()).filter(Boolean);
  for (const address of addresses) {
    try {
      proxyaddr.compile([address]);
    } catch {
      return { ok: false, error: `${address} is not an IP address, a CIDR range, loopback, linklocal or uniquelocal` };
    }
  }
  if (addresses.length === 0) return { ok: false, error: 'expected true, false, a hop count or addresses/CIDRs' };
  return { ok: true, value: { kind: 'addresses', addresses } };
}

/** The trust function: is the hop `hop` away (0 = the TCP peer), at `address`, a trusted proxy? */
export function trustFunction(trust: TrustProxy): TrustFn {
  switch (trust.kind) {
    case 'none':
      return () => false;
    case 'hops':
      return (_address, hop) => hop < trust.hops;
    case 'addresses':
      return proxyaddr.compile([...trust.addresses]);
  }
}

/** The client's address given the TCP peer and the X-Forwarded-For header(s). */
export function clientAddress(peer: string, forwardedFor: string | string[] | undefined, trust: TrustFn): string {
  // several X-Forwarded-For headers are one list, in order (RFC 9110 §5.3)
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const request = { socket: { remoteAddress: peer }, headers: header === undefined ? {} : { 'x-forwarded-for': header } };
  return proxyaddr(request as unknown as Parameters<typeof proxyaddr>[0], trust);
}
