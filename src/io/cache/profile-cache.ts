/**
 * On-disk caches. The file layout (`BlobBuilder`, `decodeBlob`, `openBlob`) and the atomic write
 * (`writeCacheFile`) serve both the reference profiles below and the log-file cache
 * (src/io/log/file-cache.ts).
 *
 * Reference profiles. Profiling the reference (parse, drop missing, sort, count) is
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
import type { ColumnType } from '../../table/columns.ts';
import type { SideProfile } from '../../drift/profile.ts';

export const CACHE_FORMAT = 'SNTLREF1';
/** Bump when profiling or the file format changes: old entries then simply miss. */
const PROFILE_VERSION = 4; // 2: categorical sides record whether they were read as numbers; 3: moments over distinct values; 4: numerical summaries count ±inf

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

/** Arrays a cache file can hold. */
export type StoredArray = Float64Array | Uint32Array | Uint16Array | Uint8Array;
type ArrayKind = 'f64' | 'u32' | 'u16' | 'u8';
/** Where one array lies in a cache file's data section (8-byte aligned offsets). */
export interface ArrayRef {
  kind: ArrayKind;
  offset: number;
  length: number;
}

const BYTES: Record<ArrayKind, number> = { f64: 8, u32: 4, u16: 2, u8: 1 };

function kindOf(a: StoredArray): ArrayKind {
  return a instanceof Float64Array ? 'f64' : a instanceof Uint32Array ? 'u32' : a instanceof Uint16Array ? 'u16' : 'u8';
}

/**
 * The cache file layout shared by every cache here (reference profiles, parsed log files): an 8-byte
 * format tag, u32 LE length of a JSON header, the header, zero padding to 8 bytes, then typed arrays
 * back to back, each 8-byte aligned. `add` registers an array and returns its ref for the header.
 */
export class BlobBuilder {
  private readonly blobs: StoredArray[] = [];
  private offset = 0;

  add(a: StoredArray): ArrayRef {
    const ref: ArrayRef = { kind: kindOf(a), offset: this.offset, length: a.length };
    this.blobs.push(a);
    this.offset += Math.ceil(a.byteLength / 8) * 8;
    return ref;
  }

  /** The file: `header` is stored with `dataBytes` added, which lets readers tell a truncated file. */
  encode(format: string, header: object): Buffer {
    const json = Buffer.from(JSON.stringify({ ...header, dataBytes: this.offset }), 'utf8');
    const start = dataStart(json.length);
    const out = Buffer.alloc(start + this.offset);
    out.write(format, 0, 'latin1');
    out.writeUInt32LE(json.length, 8);
    json.copy(out, 12);
    let pos = start;
    for (const b of this.blobs) {
      out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), pos);
      pos += Math.ceil(b.byteLength / 8) * 8;
    }
    return out;
  }
}

function dataStart(jsonLength: number): number {
  return Math.ceil((12 + jsonLength) / 8) * 8;
}

function viewOf(buffer: ArrayBufferLike, byteOffset: number, r: ArrayRef): StoredArray {
  switch (r.kind) {
    case 'f64':
      return new Float64Array(buffer, byteOffset, r.length);
    case 'u32':
      return new Uint32Array(buffer, byteOffset, r.length);
    case 'u16':
      return new Uint16Array(buffer, byteOffset, r.length);
    case 'u8':
      return new Uint8Array(buffer, byteOffset, r.length);
    default:
      throw new RangeError(`unknown array kind ${String((r as ArrayRef).kind)}`);
  }
}

/**
 * Parses a whole cache file held in memory: its JSON header and typed-array views over `input` (no
 * copy when `input` is 8-byte aligned). Null when the tag or the header is not valid; `view` throws a
 * RangeError for an array past the end (a truncated file), which callers treat as a miss.
 */
export function decodeBlob(format: string, input: Buffer): { header: unknown; view: (r: ArrayRef) => StoredArray } | null {
  if (input.length < 12 || input.toString('latin1', 0, 8) !== format) return null;
  // Typed-array views need an 8-byte aligned base.
  const buf = input.byteOffset % 8 === 0 ? input : Buffer.from(input);
  const len = buf.readUInt32LE(8);
  if (12 + len > buf.length) return null;
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + len));
  } catch {
    return null;
  }
  const start = dataStart(len);
  if (!sizeMatches(header, buf.length - start)) return null;
  return {
    header,
    view(r: ArrayRef): StoredArray {
      if (!(r.offset >= 0 && r.length >= 0 && start + r.offset + r.length * BYTES[r.kind] <= buf.length)) throw new RangeError('truncated cache file');
      return viewOf(buf.buffer, buf.byteOffset + start + r.offset, r);
    },
  };
}

/** A file written by BlobBuilder holds exactly `dataBytes` after its header (older files do not say). */
function sizeMatches(header: unknown, dataBytes: number): boolean {
  const declared = header !== null && typeof header === 'object' ? (header as { dataBytes?: unknown }).dataBytes : undefined;
  return declared === undefined || declared === dataBytes;
}

/** A cache file opened for reading parts of it: the header now, arrays on demand (positional reads). */
export interface OpenBlob {
  header: unknown;
  read(r: ArrayRef): Promise<StoredArray>;
  close(): Promise<void>;
}

/**
 * Opens a cache file and reads only its header; null when it is absent (ENOENT: evicted by another
 * reader, or never written) or not a valid file of `format`. Arrays are read later, only those needed.
 */
export async function openBlob(path: string, format: string): Promise<OpenBlob | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(12);
    if (size < 12 || (await fh.read(head, 0, 12, 0)).bytesRead !== 12 || head.toString('latin1', 0, 8) !== format) {
      await fh.close();
      return null;
    }
    const len = head.readUInt32LE(8);
    if (12 + len > size) {
      await fh.close();
      return null;
    }
    const json = Buffer.alloc(len);
    if ((await fh.read(json, 0, len, 12)).bytesRead !== len) {
      await fh.close();
      return null;
    }
    let header: unknown;
    try {
      header = JSON.parse(json.toString('utf8'));
    } catch {
      await fh.close();
      return null;
    }
    const start = dataStart(len);
    if (!sizeMatches(header, size - start)) {
      await fh.close();
      return null;
    }
    const handle = fh;
    return {
      header,
      async read(r: ArrayRef): Promise<StoredArray> {
        const bytes = r.length * BYTES[r.kind];
        if (!(r.offset >= 0 && r.length >= 0 && start + r.offset + bytes <= size)) throw new RangeError('truncated cache file');
        const out = viewOf(new ArrayBuffer(bytes), 0, r);
        const target = new Uint8Array(out.buffer, 0, bytes);
        let off = 0;
        while (off < bytes) {
          const { bytesRead } = await handle.read(target, off, bytes - off, start + r.offset + off);
          if (bytesRead === 0) throw new RangeError('truncated cache file');
          off += bytesRead;
        }
        return out;
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
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
  const blob = new BlobBuilder();
  const add = (a: Float64Array | Uint32Array): ArrayRef => blob.add(a);
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
  return blob.encode(CACHE_FORMAT, header);
}

/** Parses a cache file; null when it is not a valid entry for `key`. Arrays are views over `buf`. */
export function decodeProfile(key: string, input: Buffer): ReferenceProfile | null {
  const blob = decodeBlob(CACHE_FORMAT, input);
  if (blob === null) return null;
  const header = blob.header as Header;
  if (header.format !== CACHE_FORMAT || header.key !== key) return null;
  const view = blob.view;
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
    if (!name.startsWith('.tmp-')) continue;
    const st = await stat(join(dir, name)).catch(() => null);
    if (st !== null && now - st.mtimeMs > maxAgeMs) await rm(join(dir, name), { force: true });
  }
}

/**
 * Writes `dir/file` atomically (temp file + rename): a reader sees the old file, no file, or the whole
 * new one, never half of it, however many processes read and write the same cache directory.
 */
export async function writeCacheFile(dir: string, file: string, data: Buffer): Promise<string> {
  return (await stageCacheFile(dir, file, data)).commit();
}

/** A cache file written to its temp name: `commit` renames it into place, `discard` removes it. */
export interface StagedCacheFile {
  commit(): Promise<string>;
  discard(): Promise<void>;
}

/**
 * The first half of `writeCacheFile`: the data in a temp file of `dir`, not yet visible. Lets a run
 * write its cache entries as it goes and publish them only once it has succeeded.
 */
export async function stageCacheFile(dir: string, file: string, data: Buffer): Promise<StagedCacheFile> {
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);
  const target = join(dir, file);
  const tmp = join(dir, `.tmp-${file}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return {
    async commit() {
      try {
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return target;
    },
    discard: () => rm(tmp, { force: true }),
  };
}

/** Writes a cache entry atomically (temp + rename). Failing to cache never fails a run: the caller logs it. */
export async function saveCachedProfile(dir: string, key: string, file: string, profile: ReferenceProfile): Promise<string> {
  return writeCacheFile(dir, file, encodeProfile(key, profile));
}
