/**
 * Runs a child process to completion with a hard time limit (killed with SIGKILL when it is over),
 * collecting stdout and stderr together, for tests that run examples, npm or pytest.
 */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

export function runProcess(
  command: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, timedOut });
    });
  });
}

/** A one-line description of a failed run, with its output, for assertion messages. */
export function describeRun(what: string, r: ProcessResult): string {
  return `${what} ${r.timedOut ? 'timed out' : `exited with ${r.code ?? r.signal}`}:\n${r.output}`;
}
