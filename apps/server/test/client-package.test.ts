/**
 * @qx/client as a user gets it: `npm pack` in packages/client (in place: the working tree is the
 * same afterwards, and nothing it tracks changes meanwhile), then a fresh project outside the
 * repository installs the tarball with `npm install <tarball>` (dependencies from the registry or
 * the npm cache), imports it as plain ESM (both `@qx/client` and `@qx/client/react`) without zod
 * (it validates nothing, so it must not load it), type-checks the shipped examples and the
 * README's TypeScript and TSX blocks against the published declarations (tsc --noEmit, strict),
 * and runs the README's TypeScript blocks against a real gateway, and (with Chromium) renders the
 * README's React block in a browser, bundled from the installed package, showing live data. The
 * published package.json must name no workspace package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM, poll, skipWithoutChromium, watchErrors } from './browser.js';
import { startServer } from './helpers.js';
import { describeRun, runProcess } from './run-process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const TSC = require.resolve('typescript/bin/tsc');
const TSX = pathToFileURL(require.resolve('tsx')).href;
const NPM = 'npm';

/** The fenced blocks of one language in a Markdown text. */
export function fencedBlocks(markdown: string, lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  for (const m of markdown.matchAll(re)) out.push(m[1]!);
  return out;
}

const CLIENT_DIR = join(ROOT, 'packages', 'client');

/** Every file of the two packages that is not build output, with a hash of its content. */
function sourceTree(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pkg of ['client', 'protocol']) {
    const dir = join(ROOT, 'packages', pkg);
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      const path = join(e.parentPath, e.name);
      if (!e.isFile() || /[\\/](node_modules|dist|lib)([\\/]|$)|\.tsbuildinfo$/.test(path)) continue;
      out[path.slice(ROOT.length)] = createHash('sha1').update(readFileSync(path)).digest('hex');
    }
  }
  return out;
}

/** `git status` of the two packages, where the checkout is a git one (CI's Node 24 copy is not). */
function gitStatus(): string | null {
  const r = spawnSync('git', ['status', '--porcelain', '--', 'packages/client', 'packages/protocol'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : null;
}

test('npm pack: a fresh project installs the tarball, imports it (ESM + types, react subpath) and runs the README', { timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'qx-sdk-package-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const npmEnv = { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

  // 1. the tarball, packed where the package lives: its manifest is read, never swapped
  const treeBefore = sourceTree();
  const statusBefore = gitStatus();
  const manifestBefore = readFileSync(join(CLIENT_DIR, 'package.json'), 'utf8');
  let manifestSwapped = false;
  const watch = setInterval(() => {
    if (readFileSync(join(CLIENT_DIR, 'package.json'), 'utf8') !== manifestBefore) manifestSwapped = true;
  }, 20);
  const pack = await runProcess(NPM, ['pack', '--json', '--pack-destination', work], { cwd: CLIENT_DIR, env: npmEnv, timeoutMs: 120_000 }).finally(() => clearInterval(watch));
  assert.equal(pack.code, 0, describeRun('npm pack', pack));
  const [packed] = JSON.parse(pack.output.slice(pack.output.indexOf('[\n'))) as { filename: string; files: { path: string }[] }[];
  assert.ok(packed, 'npm pack reported the tarball');
  const shipped = packed.files.map((f) => f.path).sort();
  for (const f of ['package.json', 'README.md', 'lib/index.js', 'lib/index.d.ts', 'lib/react.js', 'lib/react.d.ts', 'lib/protocol/index.js', 'examples/quickstart.ts']) {
    assert.ok(shipped.includes(f), `${f} is in the tarball (${shipped.join(', ')})`);
  }
  assert.deepEqual(shipped.filter((f) => f.startsWith('src/') || f.includes('.test.') || f.endsWith('.map') || f.includes('tsbuildinfo')), []);
  // the working tree is as it was (lib/, the build output, is gone again), and the manifest never changed meanwhile
  assert.equal(manifestSwapped, false, 'package.json was rewritten while packing');
  assert.deepEqual(sourceTree(), treeBefore);
  assert.equal(gitStatus(), statusBefore);
  assert.equal(existsSync(join(CLIENT_DIR, 'lib')), false);

  // 2. a fresh project outside the repository installs it (and React, for the hook's types)
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'qx-consumer', private: true, type: 'module' }));
  const install = await runProcess(
    NPM,
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, packed.filename), 'react@^19', 'react-dom@^19', '@types/react@^19', '@types/node@^20'],
    { cwd: app, env: npmEnv, timeoutMs: 180_000 },
  );
  assert.equal(install.code, 0, describeRun('npm install <tarball>', install));

  const installed = join(app, 'node_modules/@qx/client');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
    exports: Record<string, string | Record<string, string>>;
    dependencies: Record<string, string>;
  };
  assert.doesNotMatch(JSON.stringify(manifest.dependencies), /"file:|"workspace:|"link:|@qx\//);
  assert.deepEqual(Object.keys(manifest.exports).sort(), ['.', './package.json', './react']);
  assert.deepEqual(Object.keys(manifest.dependencies).sort(), ['socket.io-client', 'zod']);
  // what a consumer resolves is shipped (`source` is the workspace's own condition: its TypeScript sources)
  for (const [entry, target] of Object.entries(manifest.exports)) {
    for (const [condition, path] of Object.entries(typeof target === 'string' ? { default: target } : target)) {
      if (condition !== 'source') assert.ok(existsSync(join(installed, path)), `${entry} ${condition}: ${path} is shipped`);
    }
  }

  // 3. plain Node ESM, no loader, and no zod: the SDK validates nothing, so it must not load it (zod is there for the declarations)
  const zodDir = join(app, 'node_modules/zod');
  renameSync(zodDir, `${zodDir}.away`);
  const esm = await runProcess(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const sdk = await import('@qx/client'); const react = await import('@qx/client/react');" +
        "console.log(typeof sdk.QuantEnergxClient, typeof sdk.QuantEnergxError, typeof react.useQuantEnergxWebSocket, typeof react.liveReducer);" +
        "console.log(new sdk.QuantEnergxError('FORBIDDEN', 'x') instanceof Error);",
    ],
    { cwd: app, timeoutMs: 30_000 },
  );
  renameSync(`${zodDir}.away`, zodDir);
  assert.equal(esm.code, 0, describeRun('import without zod', esm));
  assert.equal(esm.output.trim(), 'function function function function\ntrue');

  // 4. the examples and the README's blocks type-check against the published declarations
  const readme = readFileSync(join(app, 'node_modules/@qx/client/README.md'), 'utf8');
  const tsBlocks = fencedBlocks(readme, 'ts');
  const tsxBlocks = fencedBlocks(readme, 'tsx');
  assert.ok(tsBlocks.length >= 2 && tsxBlocks.length >= 1, 'the README has TypeScript and TSX blocks');
  mkdirSync(join(app, 'src'));
  tsBlocks.forEach((code, i) => writeFileSync(join(app, 'src', `readme-${i + 1}.ts`), code));
  tsxBlocks.forEach((code, i) => writeFileSync(join(app, 'src', `readme-${i + 1}.tsx`), code));
  cpSync(join(app, 'node_modules/@qx/client/examples'), join(app, 'src/examples'), { recursive: true });
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        jsx: 'react-jsx',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      include: ['src'],
    }),
  );
  const tsc = await runProcess(process.execPath, [TSC, '-p', app], { cwd: app, timeoutMs: 120_000 });
  assert.equal(tsc.code, 0, describeRun('tsc --noEmit', tsc));
  assert.ok(readdirSync(join(app, 'src/examples')).length >= 4);

  // 5. the README's TypeScript blocks run as written, against a real gateway in demo mode
  const server = await startServer({ JWT_SECRET: '' });
  t.after(() => server.close());
  const outputs: string[] = [];
  for (let i = 1; i <= tsBlocks.length; i++) {
    const r = await runProcess(process.execPath, ['--import', TSX, join(app, 'src', `readme-${i}.ts`)], { cwd: app, env: { QX_URL: server.url }, timeoutMs: 30_000 });
    assert.equal(r.code, 0, describeRun(`README block ${i}`, r));
    outputs.push(r.output);
  }
  assert.match(outputs[0]!, /signed in as user-123 until \d{4}-/);
  assert.match(outputs[0]!, /following \{[^}]*market: \[ 'crude_oil', 'natural_gas' \]/);
  assert.match(outputs[1]!, /refused: INVALID_TOKEN/);
  assert.match(outputs[2]!, /amended ord-\d+ 600 true\nrefused: PRICE_OFF_TICK\ncancelled \[ 'ord-\d+' \]\nflatten: NO_POSITION/);
  // the safety nets: status, cancel-on-disconnect, the dead-man's switch armed and stopped, an order over the socket
  assert.match(outputs[3]!, /^brent is open: /m);
  assert.match(outputs[3]!, /cancel on disconnect: connection\ndead-man armed: 1 true\nplaced: new\ndead-man stopped: false null/);

  // 6. the README's React block, bundled from the installed package, live in Chromium
  await t.test('the README React block renders live data in Chromium', { skip: skipWithoutChromium }, async (st) => {
    mkdirSync(join(app, 'web'));
    writeFileSync(
      join(app, 'web', 'mount.tsx'),
      [
        "import { createRoot } from 'react-dom/client';",
        "import { Ticker } from '../src/readme-1.tsx';",
        'const params = new URLSearchParams(location.search);',
        'const url = location.origin; // the app and the gateway behind one origin, as in production',
        "const userId = params.get('user') ?? '';",
        'const token = async (): Promise<string> => {',
        "  const res = await fetch(`${url}/api/v1/auth/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });",
        '  return ((await res.json()) as { token: string }).token;',
        '};',
        "createRoot(document.getElementById('root')!).render(<Ticker url={url} userId={userId} token={token} />);",
      ].join('\n'),
    );
    await build({
      absWorkingDir: app,
      entryPoints: ['web/mount.tsx'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      jsx: 'automatic',
      outfile: 'web/bundle.js',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const files: Record<string, [string, string]> = {
      '/': ['text/html', '<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/bundle.js"></script>'],
      '/bundle.js': ['text/javascript', readFileSync(join(app, 'web', 'bundle.js'), 'utf8')],
    };
    // a front-end server: the page itself, everything else (REST, Socket.IO, WebSocket upgrades) passed to the gateway
    const gateway = new URL(server.url);
    const tunnels = new Set<Socket>();
    const web: Server = createServer((req, res) => {
      const file = files[(req.url ?? '/').split('?')[0]!];
      if (file) return void res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
      const upstream = httpRequest({ host: gateway.hostname, port: gateway.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    web.on('upgrade', (req, socket: Socket, head: Buffer) => {
      const up = connect(Number(gateway.port), gateway.hostname, () => {
        const headers: string[] = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        up.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
        if (head.length) up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      for (const s of [up, socket]) {
        tunnels.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          tunnels.delete(s);
          up.destroy();
          socket.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    st.after(() => {
      for (const s of tunnels) s.destroy();
      web.closeAllConnections();
      web.close();
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    st.after(() => browser.close());
    const page = await browser.newPage();
    const errors = watchErrors(page);
    const userId = 'react-user';
    const { port } = web.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/?user=${userId}`);
    const text = () => page.locator('ul').innerText().catch(() => '');
    await poll('the hook to say live', 10_000, async () => (await text()).startsWith('live')).catch(async (err: Error) => {
      throw new Error(`${err.message}; page: ${await page.content()}; errors: ${errors.join('; ')}`);
    });
    assert.match(await text(), /0 orders, 0 alerts/);
    // an order placed over REST shows up through the hook's order-update stream, and its market data
    const token = await server.sign(userId);
    const placed = await server.http('/api/v1/trading/orders', { method: 'POST', token, json: { commodity: 'crude_oil', side: 'buy', type: 'limit', quantity: 1, price: 70 } });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    await poll('the order and crude oil market data in the page', 10_000, async () => /1 orders/.test(await text()) && /crude_oil: 75/.test(await text()));
    assert.deepEqual(errors, []);
  });
});
