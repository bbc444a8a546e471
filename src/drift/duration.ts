/**
 * The one duration parser: every flag (`--since`, `--every`, `--max-log-age`, timeouts...), the
 * ModelMonitor spec and the alarm chunk period. `500ms`, `90s`, `30m`, `24h`, `7d`, `2w`, or combined (`1h30m`).
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds, or null when `text` is not a positive duration. */
export function parseDuration(text: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched = re.lastIndex;
  }
  return matched === text.length && text.length > 0 && total > 0 ? total : null;
}
