import { jwtVerify } from 'jose';

/**
 * Verifies a user token as the gateway does (HS256, exp) and returns its subject. The baselines
 * authenticate too, so connect+auth rates compare like with like.
 */
export function tokenVerifier(secret: string): (token: unknown) => Promise<string> {
  const key = new TextEncoder().encode(secret);
  return async (token) => {
    if (typeof token !== 'string' || token.length === 0) throw new Error('Invalid authentication data');
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string') throw new Error('Invalid token');
    return payload.sub;
  };
}
