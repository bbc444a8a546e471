/**
 * On-disk cache of reference profiles. Profiling the reference (parse, drop missing, sort, count) is
 * the same work on every run until the reference file changes, so it is done once and stored:
 *
 *   <out>/.cache/reference-<id>-<plan>.bin
 *   id = sha256(format version, absolute path, size, mtime); plan = sha256(column names + types)
 *
 * File format: "SNTLREF1", u32 LE header length, a JSON header, zero padding to 8 bytes, then the
 * typed arrays back to back (each 8-byte aligned): numerical columns store the finite values in input
 * order, the sorted values, distinct values and their counts; categorical columns store the codes of
 * non-missing rows, the counts per code and (in the header) the dictionary. A hit is one read and
 * typed-array views over it: no parse, no sort. Written temp + rename, so a reader never sees half a
 * file; a corrupt or foreign file is a miss.
 */

import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ColumnType } from './result.ts';
import type { SideProfile } from './profile.ts';

export const CACHE_FORMAT = 'SNTLREF1';
/** Bump when profiling or the file format changes: old entries then simply miss. */
const PROFILE_VERSION = 2; // 2: categorical sides record whether they were read as numbers

export interface ReferenceProfile {
  path: string;
  rows: number;
  header: string[];
  columns: Map<string, SideProfile>;
}

export interface CacheKeyInput {
  path: string;
  columns: readonly { name: string; type: ColumnType }[];
}

/**
 * The cache key and file name for a reference file and column plan; stats the file. The name is
 * `reference-<file identity>-<plan>.bin`, so `hasCachedProfiles` can tell from the identity alone
 * (before the plan is known) whether this reference was profiled before.
 */
export async function cacheKey(input: CacheKeyInput): Promise<{ key: string; file: string; prefix: string; size: number; mtimeMs: number }> {
  const { prefix, size, mtimeMs } = await referenceIdentity(input.path);
  const plan = createHash('sha256')
    .update(JSON.stringify(input.columns.map((c) => [c.name, c.type])))
    .digest('hex')
    .slice(0, 16);
  const key = `${prefix}-${plan}`;
  return { key, file: `${key}.bin`, prefix, size, mtimeMs };
}

/** `reference-<hash of format version, absolute path, size, mtime>`. */
export async function referenceIdentity(path: string): Promise<{ prefix: string; size: number; mtimeMs: number }> {
  const abs = resolve(path);
  const st = await stat(abs);
  const id = createHash('sha256')
    .update(JSON.stringify({ v: PROFILE_VERSION, path: abs, size: st.size, mtimeMs: st.mtimeMs }))
    .digest('hex')
    .slice(0, 16);
  return { prefix: `reference-${id}`, size: st.size, mtimeMs: st.mtimeMs };
}

/** Whether `dir` holds any profile of the reference with this identity prefix. */
export async function hasCachedProfiles(dir: string, prefix: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((n) => n.startsWith(`${prefix}-`) && n.endsWith('.bin'));
  } catch {
    return false;
  }
}

type ArrayKind = 'f64' | 'u32';
interface ArrayRef {
  kind: ArrayKind;
  offset: number;
  length: number;
}

interface HeaderColumn {
  name: string;
  type: ColumnType;
  summary: SideProfile['summary'];
  wrongType: string | null;
  num?: { n: number; mean: number; std: number; integerDtype: boolean; values: ArrayRef | 'sorted'; sorted: ArrayRef; uniqueValues: ArrayRef; uniqueCounts: ArrayRef } | null;
  cat?: { n: number; dictionary: string[]; codes: ArrayRef; counts: ArrayRef; fromNumbers: boolean } | null;
}

interface Header {
  format: string;
  key: string;
  path: string;
  rows: number;
  header: string[];
  columns: HeaderColumn[];
}

/** Serialises a profile to the cache format (one Buffer). */
export function encodeProfile(key: string, profile: ReferenceProfile): Buffer {
  const blobs: (Float64Array | Uint32Array)[] = [];
  let offset = 0;
  const add = (a: Float64Array | Uint32Array): ArrayRef => {
    const ref: ArrayRef = { kind: a instanceof Float64Array ? 'f64' : 'u32', offset, length: a.length };
    blobs.push(a);
    offset += Math.ceil(a.byteLength / 8) * 8;
    return ref;
  };
  const columns: HeaderColumn[] = [];
  for (const [name, side] of profile.columns) {
    const col: HeaderColumn = { name, type: side.type, summary: side.summary, wrongType: side.wrongType };
    if (side.type === 'numerical') {
      const d = side.data;
      col.num =
        d === null
          ? null
          : {
              n: d.n,
              mean: d.mean,
              std: d.std,
              integerDtype: d.integerDtype,
              sorted: add(d.sorted),
              // Already-sorted input needs no second copy.
              values: d.values === d.sorted ? 'sorted' : add(d.values),
              uniqueValues: add(d.uniqueValues),
              uniqueCounts: add(d.uniqueCounts),
            };
    } else {
      const d = side.data;
      col.cat = d === null ? null : { n: d.n, dictionary: d.dictionary, codes: add(d.codes instanceof Uint32Array ? d.codes : Uint32Array.from(d.codes)), counts: add(d.counts), fromNumbers: d.fromNumbers === true };
    }
    columns.push(col);
  }
  const header: Header = { format: CACHE_FORMAT, key, path: profile.path, rows: profile.rows, header: profile.header, columns };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = Math.ceil((8 + 4 + json.length) / 8) * 8;
  const out = Buffer.alloc(start + offset);
  out.write(CACHE_FORMAT, 0, 'latin1');
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  let pos = start;
  for (const b of blobs) {
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), pos);
    pos += Math.ceil(b.byteLength / 8) * 8;
  }
  return out;
}

/** Parses a cache file; null when it is not a valid entry for `key`. Arrays are views over `buf`. */
export function decodeProfile(key: string, input: Buffer): ReferenceProfile | null {
  if (input.length < 12 || input.toString('latin1', 0, 8) !== CACHE_FORMAT) return null;
  // Typed-array views need an 8-byte aligned base.
  const buf = input.byteOffset % 8 === 0 ? input : Buffer.from(input);
  const len = buf.readUInt32LE(8);
  if (12 + len > buf.length) return null;
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + len)) as Header;
  } catch {
    return null;
  }
  if (header.format !== CACHE_FORMAT || header.key !== key) return null;
  const start = Math.ceil((12 + len) / 8) * 8;
  const view = (r: ArrayRef): Float64Array | Uint32Array => {
    const byteOffset = buf.byteOffset + start + r.offset;
    const bytes = r.length * (r.kind === 'f64' ? 8 : 4);
    if (start + r.offset + bytes > buf.length) throw new RangeError('truncated cache file');
    return r.kind === 'f64' ? new Float64Array(buf.buffer, byteOffset, r.length) : new Uint32Array(buf.buffer, byteOffset, r.length);
  };
  const columns = new Map<string, SideProfile>();
  try {
    for (const c of header.columns) {
      if (c.type === 'numerical') {
        const d = c.num ?? null;
        let data = null;
        if (d !== null) {
          const sorted = view(d.sorted) as Float64Array;
          data = {
            prepared: 'num' as const,
            n: d.n,
            mean: d.mean,
            std: d.std,
            integerDtype: d.integerDtype,
            sorted,
            values: d.values === 'sorted' ? sorted : (view(d.values) as Float64Array),
            uniqueValues: view(d.uniqueValues) as Float64Array,
            uniqueCounts: view(d.uniqueCounts) as Float64Array,
          };
        }
        columns.set(c.name, { type: 'numerical', summary: c.summary, wrongType: c.wrongType, data });
      } else {
        const d = c.cat ?? null;
        const data = d === null ? null : { n: d.n, dictionary: d.dictionary, codes: view(d.codes) as Uint32Array, counts: view(d.counts) as Float64Array, fromNumbers: d.fromNumbers === true };
        columns.set(c.name, { type: 'categorical', summary: c.summary, wrongType: c.wrongType, data });
      }
    }
  } catch {
    return null;
  }
  return { path: header.path, rows: header.rows, header: header.header, columns };
}

/** Reads a cache entry; null on a miss (absent, corrupt, other key). */
export async function loadCachedProfile(dir: string, key: string, file: string): Promise<ReferenceProfile | null> {
  let fh;
  try {
    fh = await open(join(dir, file), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    // One read into shared memory: worker threads then see the arrays without a copy or a transfer.
    const { size } = await fh.stat();
    const shared = new SharedArrayBuffer(size);
    const buf = Buffer.from(shared);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) return null;
      off += bytesRead;
    }
    return decodeProfile(key, buf);
  } finally {
    await fh.close();
  }
}

/** Temp files of writers that were killed mid-write (older than an hour) are removed. */
async function removeStaleTemps(dir: string, maxAgeMs = 3_600_000): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith('.tmp-reference-')) continue;
    const st = await stat(join(dir, name)).catch(() => null);
    if (st !== null && now - st.mtimeMs > maxAgeMs) await rm(join(dir, name), { force: true });
  }
}

/** Writes a cache entry atomically (temp + rename). Failing to cache never fails a run: the caller logs it. */
export async function saveCachedProfile(dir: string, key: string, file: string, profile: ReferenceProfile): Promise<string> {
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);
  const target = join(dir, file);
  const tmp = join(dir, `.tmp-${file}-${process.pid}-${Date.now()}`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(encodeProfile(key, profile));
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return target;
}
