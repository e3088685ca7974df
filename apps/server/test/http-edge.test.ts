/**
 * The HTTP edge: every error response is `{error: {code, message}}` (Fastify's own and the HTTP
 * parser's too), CORS for REST with CORS_ORIGIN (preflights answered), security headers on every
 * response, HSTS only over TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { PUBLISH_KEY, startServer, type TestServer } from './helpers.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `request` as written on a fresh TCP connection and reads the response until the server closes or 3 s pass. */
function raw(port: number, request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      const head = data.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, head));
      if (head >= 0 && length && data.length >= head + 4 + Number(length[1])) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const head = data.indexOf('\r\n\r\n');
      if (head < 0) return reject(new Error(`no response to ${JSON.stringify(request.slice(0, 60))}: ${JSON.stringify(data)}`));
      const [statusLine, ...lines] = data.slice(0, head).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, body: data.slice(head + 4) });
    });
    socket.write(request);
  });
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`;
const post = (path: string, type: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${PUBLISH_KEY}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

describe('the HTTP edge', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ CORS_ORIGIN: 'https://app.example, https://ops.example' });
  });
  after(() => server.close());

  test('every error response has the documented shape, Fastify\'s own and the HTTP parser\'s included', async () => {
    const cases: [string, string, number, string][] = [
      ['a malformed URL', get('/%'), 400, 'BAD_REQUEST'],
      ['an unknown route', get('/nope'), 404, 'NOT_FOUND'],
      ['a path parameter over maxParamLength', get(`/api/v1/market/${'a'.repeat(200)}/book`), 414, 'URI_TOO_LONG'],
      ['a request line over the header limit', get(`/api/v1/${'a'.repeat(20_000)}`), 431, 'HEADERS_TOO_LARGE'],
      ['headers over the limit', get('/health', `X-Pad: ${'p'.repeat(20_000)}\r\n`), 431, 'HEADERS_TOO_LARGE'],
      ['an unsupported media type', post('/api/v1/publish', 'application/xml', '<x/>'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['malformed JSON', post('/api/v1/publish', 'application/json', '{"event":'), 400, 'INVALID_PAYLOAD'],
      ['a body over the limit', post('/api/v1/trading/orders', 'application/json', JSON.stringify({ pad: 'x'.repeat(20_000) })), 413, 'PAYLOAD_TOO_LARGE'],
      ['garbage instead of HTTP', 'NOT HTTP AT ALL\r\n\r\n', 400, 'BAD_REQUEST'],
    ];
    for (const [what, request, status, code] of cases) {
      const res = await raw(server.port, request);
      assert.equal(res.status, status, `${what}: ${res.body}`);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/, what);
      const body = JSON.parse(res.body) as { error: { code: string; message: string } };
      assert.deepEqual(Object.keys(body), ['error'], what);
      assert.equal(body.error.code, code, what);
      assert.equal(typeof body.error.message, 'string', what);
    }
  });

  test('CORS_ORIGIN applies to REST: a preflight is answered for an allowed origin, others get no CORS headers', async () => {
    const preflight = await fetch(`${server.url}/api/v1/trading/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const allowed = await fetch(`${server.url}/api/v1/openapi.json`, { headers: { origin: 'https://ops.example' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://ops.example');
    const other = await fetch(`${server.url}/api/v1/openapi.json`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('security headers on every response (JSON, errors, the dashboard); no HSTS over plain HTTP', async () => {
    for (const path of ['/health', '/api/v1/openapi.json', '/nope', '/']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/, path);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.equal(res.headers.get('strict-transport-security'), null, path);
    }
  });
});

test('default CORS_ORIGIN (*) allows any origin; HSTS is sent when a trusted proxy says the request came over TLS', async () => {
  const server = await startServer({ TRUST_PROXY: 'true' });
  try {
    const res = await fetch(`${server.url}/health`, { headers: { origin: 'https://anywhere.example', 'x-forwarded-proto': 'https' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('strict-transport-security') ?? '', /^max-age=\d+/);
    const plain = await fetch(`${server.url}/health`);
    assert.equal(plain.headers.get('strict-transport-security'), null);
  } finally {
    await server.close();
  }
});
