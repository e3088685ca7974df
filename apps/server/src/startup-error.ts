/**
 * A problem that stops the server at start and is the operator's to fix: it names the setting and
 * says why, and main.ts prints it as one line (no stack) and exits non-zero.
 */
export class StartupError extends Error {
  constructor(
    readonly setting: string,
    readonly reason: string,
  ) {
    super(`${setting}: ${reason}`);
    this.name = 'StartupError';
  }
}
