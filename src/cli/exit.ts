import chalk from 'chalk';
import { InputError } from '../sim/errors.js';
import { TraceFormatError } from '../trace/format.js';

/** Exit codes (DESIGN.md "Command line"). */
export const EXIT = { ok: 0, failed: 1, badInput: 2, internal: 3 } as const;

/** A command line yargs rejected (unknown option, missing argument). */
export class UsageError extends Error {}

/** Prints an error the way a user can act on and returns the exit code. */
export function handleError(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`simrun: ${err.message}\nRun simrun --help for usage.\n`);
    return EXIT.badInput;
  }
  if (err instanceof InputError || err instanceof TraceFormatError) {
    process.stderr.write(`${chalk.red('error:')} ${err.message}\n`);
    return EXIT.badInput;
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' && typeof e.path === 'string') {
    process.stderr.write(`${chalk.red('error:')} ${e.path}: file not found\n`);
    return EXIT.badInput;
  }
  process.stderr.write(`${chalk.red('internal error:')} ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  return EXIT.internal;
}
