/**
 * JSON request bodies. Fastify's own parser refuses a body that could poison prototypes (a
 * `__proto__` key, a `constructor.prototype`) — rightly — but says only "Body is not valid JSON".
 * This one refuses the same bodies and says what is wrong: malformed JSON with the parser's
 * message, or the forbidden key with where it is (`INVALID_PAYLOAD`, `field`).
 */
import type { FastifyInstance } from 'fastify';

/** A body refused before any route saw it: mapped to `INVALID_PAYLOAD` (with `field`) by the error handler. */
export class BodyError extends Error {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/** Nesting deeper than this is refused (a body is a request, not a document). */
const MAX_DEPTH = 64;

export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(new BodyError('The body is empty but content-type is application/json'), undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return done(new BodyError(`Body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    const forbidden = findForbiddenKey(value);
    if (forbidden) return done(new BodyError(`${forbidden.key} is not allowed as a key (it could change object prototypes)`, forbidden.path), undefined);
    done(null, value);
  });
}

/** The first `__proto__` key, or `constructor` holding a `prototype`, and its path (`a.b.__proto__`). */
function findForbiddenKey(root: unknown): { key: string; path: string } | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_DEPTH) return { key: 'nesting', path };
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const at = path ? `${path}.${key}` : key;
      if (key === '__proto__') return { key, path: at };
      if (key === 'constructor' && typeof child === 'object' && child !== null && Object.prototype.hasOwnProperty.call(child, 'prototype')) {
        return { key: 'constructor.prototype', path: `${at}.prototype` };
      }
      stack.push({ value: child, path: at, depth: depth + 1 });
    }
  }
  return null;
}
