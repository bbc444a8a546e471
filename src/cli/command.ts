// The contract every `sentinel` command follows, in one place that main.ts and the commands both
// import (so they never import each other): a command parses its own flags and returns its exit
// code; what it throws becomes one line on stderr and exit 2 for a usage error (the command line
// or SENTINEL_* environment is wrong), exit 1 for anything that failed at run time.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError, SentinelError, UsageError } from '../errors.ts';

/** A subcommand: parses its own flags, returns the process exit code. */
export type Command = (argv: string[], env: Record<string, string | undefined>) => Promise<number>;

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** True for an error that means "the invocation is wrong", not "the work failed". */
export function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  if (err instanceof InputError && err.code === 'usage') return true;
  // node:util parseArgs: unknown option, missing value, unexpected positional...
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

export function exitCodeOf(err: unknown): number {
  return isUsageError(err) ? EXIT_USAGE : EXIT_FAILURE;
}

/** The first line of an error's message (a command reports one line). */
export function messageOf(err: unknown): string {
  const message = err instanceof SentinelError || err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}

/** Reports a failure of `sentinel <name>` on stderr and returns its exit code. */
export function reportFailure(name: string, err: unknown): number {
  process.stderr.write(`sentinel ${name}: ${messageOf(err)}\n`);
  return exitCodeOf(err);
}

/** node:util parseArgs whose errors are usage errors (exit 2) with node's first line as the message. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(messageOf(err), { cause: err });
  }
}
