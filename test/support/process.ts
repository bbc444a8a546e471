import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SENTINEL = fileURLToPath(new URL('../../bin/sentinel.js', import.meta.url));

export interface SentinelProcess {
  child: ChildProcess;
  /** Base URL once the process logged that it listens. */
  url: string;
  /** Every line the process wrote to stderr so far (pino JSON). */
  stderr: string[];
  /** Resolves with the exit code/signal once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `sentinel <args>` as a real process and waits for its "listening" log line, which carries
 * the URL (use --port 0 for a free port). Rejects if the process exits first.
 */
export async function startSentinel(args: string[], opts: { env?: Record<string, string>; readyEvent?: string; timeoutMs?: number } = {}): Promise<SentinelProcess> {
  const child = spawn(process.execPath, [SENTINEL, ...args], {
    cwd: REPO,
    env: { ...process.env, SENTINEL_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let buf = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sentinel ${args[0]} did not start in time:\n${stderr.join('\n')}`)), opts.timeoutMs ?? 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        stderr.push(line);
        try {
          const rec = JSON.parse(line);
          if (typeof rec.url === 'string' && (opts.readyEvent === undefined ? /_listening$/.test(rec.event ?? '') : rec.event === opts.readyEvent)) {
            clearTimeout(timer);
            resolve(rec.url);
          }
        } catch {
          /* not JSON: keep it in stderr */
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`sentinel ${args[0]} exited (${code ?? signal}) before listening:\n${stderr.join('\n')}${buf}`));
    });
  });
  child.stdout!.resume();
  return { child, url, stderr, exited, kill: (s = 'SIGTERM') => void child.kill(s) };
}
