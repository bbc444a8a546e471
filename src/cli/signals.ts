// The one owner of SIGTERM / SIGINT (what a container runtime or Ctrl-C sends) for every command.
import type { Logger } from '../logger.ts';

/**
 * Calls `handler` on each SIGTERM or SIGINT with how many have arrived (1 for the first), so a
 * command can stop gently on the first and abort on the second. Returns the function that stops
 * listening.
 */
export function onShutdownSignal(handler: (signal: NodeJS.Signals, count: number) => void): () => void {
  let count = 0;
  const on = (signal: NodeJS.Signals) => handler(signal, ++count);
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return () => {
    process.off('SIGTERM', on);
    process.off('SIGINT', on);
  };
}

/** Resolves with the first SIGTERM or SIGINT, logged as "shutting down". */
export function untilSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((res) => {
    const stop = onShutdownSignal((signal) => {
      stop();
      logger.info({ event: 'shutting_down', signal }, 'shutting down');
      res(signal);
    });
  });
}
