// Polling for the cluster tests: `check` until it gives a value, or fail naming what was awaited.

/**
 * Calls `check` every second until it returns something other than undefined (a throw counts as
 * "not yet"); after `timeoutMs` fails with `what`, the last error and, if given, `diag()`'s text.
 */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, diag?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await check(); if (v !== undefined) return v; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? `; last error: ${(last as Error).message}` : ''}${diag ? `\n${await diag().catch((e) => String(e))}` : ''}`);
}
