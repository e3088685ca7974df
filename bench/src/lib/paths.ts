import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** True when running from TypeScript sources (tests via tsx), false from bench/dist. */
export const fromSource = import.meta.url.endsWith('.ts');
export const benchDir = resolve(here, '../..');
export const repoRoot = resolve(benchDir, '..');
export const resultsDir = resolve(benchDir, 'results');

/**
 * How to start one of the bench's own entry points (`loadgen/worker`, `baselines/raw-ws-server`)
 * in a child process: compiled JS from bench/dist normally; the .ts source through tsx when the
 * parent itself runs from source (tests).
 */
export function entryPoint(name: string): { file: string; execArgv: string[] } {
  if (fromSource) {
    return { file: resolve(benchDir, 'src', `${name}.ts`), execArgv: ['--conditions=source', '--import', 'tsx'] };
  }
  return { file: resolve(benchDir, 'dist', `${name}.js`), execArgv: [] };
}
