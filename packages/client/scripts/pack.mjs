#!/usr/bin/env node
/**
 * `npm pack` / `npm publish` of @qx/client, without workspace-only paths in what is published.
 *
 *   prepack:  builds (tsc -b), assembles lib/ (the SDK's JavaScript and declarations, with
 *             @qx/protocol compiled in under lib/protocol/ and its imports made relative), and
 *             writes the published package.json: `publishConfig`'s fields over the workspace
 *             manifest, no `source` conditions, no devDependencies or scripts, @qx/protocol
 *             replaced by its own dependencies. The workspace manifest is kept aside.
 *   postpack: puts the workspace manifest back and removes lib/.
 *
 * Usage (npm runs it): node scripts/pack.mjs prepack|postpack
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const protocolDir = join(pkgDir, '..', 'protocol');
const manifestPath = join(pkgDir, 'package.json');
const keptPath = join(pkgDir, 'package.workspace.json');
const libDir = join(pkgDir, 'lib');
const INLINED = '@qx/protocol';

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

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

/** Rewrites `'@qx/protocol'` in every lib/ file to the relative path of lib/protocol/index.js. */
function inlineProtocol() {
  for (const file of files(libDir)) {
    let target = relative(dirname(file), join(libDir, 'protocol', 'index.js')).split(sep).join('/');
    if (!target.startsWith('.')) target = `./${target}`;
    const text = readFileSync(file, 'utf8')
      .replace(/(["'])@qx\/protocol\1/g, `$1${target}$1`)
      .replace(/\n\/\/# sourceMappingURL=.*$/, '\n');
    if (/(["'])@qx\//.test(text)) throw new Error(`${relative(pkgDir, file)} still imports a workspace package`);
    writeFileSync(file, text);
  }
}

function publishedManifest(workspace) {
  const manifest = { ...workspace, ...workspace.publishConfig };
  // publishConfig's fields replace the workspace's; what only the workspace needs goes
  for (const key of ['publishConfig', 'devDependencies', 'scripts', 'private', 'access', 'registry', 'tag']) delete manifest[key];
  const protocol = readJson(join(protocolDir, 'package.json'));
  manifest.dependencies = { ...protocol.dependencies, ...workspace.dependencies };
  delete manifest.dependencies[INLINED];
  const leaks = JSON.stringify(manifest).match(/"source"|\.\/src\/|"file:|"workspace:|"link:|@qx\/protocol/g);
  if (leaks) throw new Error(`published package.json would contain ${leaks.join(', ')}`);
  return manifest;
}

function prepack() {
  if (existsSync(keptPath)) postpack(); // a pack that failed half-way
  const require = createRequire(import.meta.url);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', pkgDir], { stdio: 'inherit' });
  rmSync(libDir, { recursive: true, force: true });
  copyBuild(join(pkgDir, 'dist'), libDir);
  copyBuild(join(protocolDir, 'dist'), join(libDir, 'protocol'));
  inlineProtocol();
  const workspace = readJson(manifestPath);
  const published = publishedManifest(workspace);
  renameSync(manifestPath, keptPath);
  writeFileSync(manifestPath, `${JSON.stringify(published, null, 2)}\n`);
}

function postpack() {
  if (existsSync(keptPath)) renameSync(keptPath, manifestPath);
  rmSync(libDir, { recursive: true, force: true });
}

const step = process.argv[2];
if (step === 'prepack') prepack();
else if (step === 'postpack') postpack();
else {
  console.error('usage: node scripts/pack.mjs prepack|postpack');
  process.exit(2);
}
