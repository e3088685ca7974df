#!/usr/bin/env node
/**
 * `npm pack` / `npm publish` of @qx/client, from its own folder, without touching what git tracks:
 * the workspace manifest is the published one (its `types` and `default` conditions name lib/,
 * its `source` condition the TypeScript sources that only the workspace's builds ask for).
 *
 *   prepack:  builds (tsc -b) and assembles lib/ (gitignored): the SDK's JavaScript and
 *             declarations, with @qx/protocol compiled in under lib/protocol/ and its imports made
 *             relative. Checks that the manifest names no workspace package among its dependencies.
 *   postpack: removes lib/.
 *
 * Usage (npm runs it): node scripts/pack.mjs prepack|postpack
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const protocolDir = join(pkgDir, '..', 'protocol');
const libDir = join(pkgDir, 'lib');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Copies a tsc output folder's .js and .d.ts files (no tests, no maps: src/ is not published). */
function copyBuild(from, to) {
  for (const file of files(from)) {
    const rel = relative(from, file);
    if (/\.test\.(js|d\.ts)$/.test(rel) || !/\.(js|d\.ts)$/.test(rel)) continue;
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    cpSync(file, join(to, rel));
  }
}

/** Rewrites `'@qx/protocol'` and `'@qx/protocol/<entry>'` in every lib/ file to a relative path into lib/protocol/. */
function inlineProtocol() {
  for (const file of files(libDir)) {
    const text = readFileSync(file, 'utf8')
      .replace(/(["'])@qx\/protocol(?:\/(\w+))?\1/g, (_m, quote, entry) => {
        let target = relative(dirname(file), join(libDir, 'protocol', `${entry ?? 'index'}.js`)).split(sep).join('/');
        if (!target.startsWith('.')) target = `./${target}`;
        return `${quote}${target}${quote}`;
      })
      .replace(/\n\/\/# sourceMappingURL=.*$/, '\n');
    if (/(["'])@qx\//.test(text)) throw new Error(`${relative(pkgDir, file)} still imports a workspace package`);
    writeFileSync(file, text);
  }
}

/** The manifest is published as it is: it must not depend on what only the workspace has. */
function checkManifest() {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const deps = JSON.stringify({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies });
  const leaks = deps.match(/@qx\/|"file:|"workspace:|"link:/g);
  if (leaks) throw new Error(`package.json dependencies name ${leaks.join(', ')}: a consumer could not install them`);
}

function prepack() {
  checkManifest();
  const require = createRequire(import.meta.url);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', pkgDir], { stdio: 'inherit' });
  rmSync(libDir, { recursive: true, force: true });
  copyBuild(join(pkgDir, 'dist'), libDir);
  copyBuild(join(protocolDir, 'dist'), join(libDir, 'protocol'));
  inlineProtocol();
}

function postpack() {
  rmSync(libDir, { recursive: true, force: true });
}

const step = process.argv[2];
if (step === 'prepack') prepack();
else if (step === 'postpack') postpack();
else {
  console.error('usage: node scripts/pack.mjs prepack|postpack');
  process.exit(2);
}
