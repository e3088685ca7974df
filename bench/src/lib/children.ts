/**
 * Every child process the bench starts is tracked here and killed when the bench exits, fails or
 * is interrupted, so nothing outlives a run.
 */
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { clockEnv } from './clock.js';
import { entryPoint, repoRoot } from './paths.js';

const live = new Set<ChildProcess>();
let installed = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

function track(child: ChildProcess): ChildProcess {
  install();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Forks one of the bench's entry points with an IPC channel and the shared clock. */
export function forkEntry(name: string, env: Record<string, string> = {}): ChildProcess {
  const { file, execArgv } = entryPoint(name);
  return track(
    fork(file, [], {
      cwd: repoRoot,
      execArgv,
      env: { ...process.env, ...clockEnv(), ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    }),
  );
}

/** Spawns any command (the gateway), tracked like the rest. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options));
}

/** Ends a child: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
