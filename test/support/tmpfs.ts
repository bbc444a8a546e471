import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real, tiny filesystem that fills up: a tmpfs mount (needs root, which our machines and CI have).
 * Returns the mount point and an unmount function.
 */
export function mountTinyTmpfs(sizeBytes: number): { dir: string; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs for the disk-full test (needs root): ${(err as Error).message}`);
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
