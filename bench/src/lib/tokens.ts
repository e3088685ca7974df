import { SignJWT } from 'jose';

/** An HS256 user token as the gateway accepts it: `sub` = userId, expiring in two hours. */
export function signUserToken(secret: string, userId: string): Promise<string> {
  return new SignJWT({ roles: [] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}
