import { createCipheriv } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GlobpipeError } from '../errors.js';
import { isStaleTempName, liveTemps, tempPathFor } from '../io/atomic.js';
import {
  type GenContentKind,
  type GenOptions,
  type GenParameters,
  type GenSummary,
  type PlannedFile,
  Prng,
  planDataset,
  resolveParameters,
} from './gen.js';

/**
 * Writes a planned dataset: each file to a temp beside it, renamed into place when
 * complete; content made in chunks, so a 256 MiB file never needs 256 MiB of memory. The
 * manifest goes first (incomplete) and last (complete), so a rerun with the same
 * parameters does nothing, and an interrupted one can be finished by running it again.
 */

export const MANIFEST = '.globpipe-gen.json';
const MANIFEST_VERSION = 1;
const CHUNK = 64 * 1024;
const DEFAULT_CONCURRENCY = 16;
/** A large file reports progress every this many bytes, not only when done. */
const PROGRESS_STEP = 8 * 1024 * 1024;

interface Manifest {
  readonly generator: 'globpipe gen';
  readonly version: number;
  readonly complete: boolean;
  readonly parameters: GenParameters;
  readonly files: number;
  readonly bytes: number;
}

/** A few hundred common English words: text compresses like prose (gzip about 3:1). */
const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an ' +
  'they you were her she there been one all we their has would when if so no will more can out up into do ' +
  'any your what time some could them other than then now only its over also new like these two may first ' +
  'way after most made well our before must through back years where much should people used well down ' +
  'file data disk read write stream buffer queue page cache block sector inode directory path glob pattern ' +
  'pipeline worker thread process signal error result output input transform compress archive build deploy ' +
  'server client request response header body token value number string object array record table index ' +
  'system memory kernel device driver network socket packet frame window screen color image style script'
).split(' ');

/** Prose-like text: words, commas, sentences, lines of about 72 columns. */
class TextSource {
  readonly #prng: Prng;
  #pending = Buffer.alloc(0);
  #column = 0;
  #sentence = 0;

  constructor(prng: Prng) {
    this.#prng = prng;
  }

  fill(target: Buffer): void {
    let at = 0;
    while (at < target.length) {
      if (this.#pending.length === 0) this.#pending = Buffer.from(this.#line(), 'latin1');
      const n = this.#pending.copy(target, at);
      at += n;
      this.#pending = this.#pending.subarray(n);
    }
  }

  #line(): string {
    let line = '';
    this.#column = 0;
    while (this.#column < 72) {
      let word = WORDS[this.#prng.below(WORDS.length)] as string;
      if (this.#sentence === 0) word = word[0]?.toUpperCase() + word.slice(1);
      this.#sentence += 1;
      const end = this.#prng.below(12);
      if (this.#sentence > 4 && end === 0) {
        word += '.';
        this.#sentence = 0;
      } else if (end === 1) word += ',';
      line += line === '' ? word : ` ${word}`;
      this.#column += word.length + 1;
    }
    return `${line}\n`;
  }
}

/** Incompressible bytes: AES-128-CTR's keystream, keyed by the file's seed (fast, and the same everywhere). */
function randomSource(seed: readonly number[]): (target: Buffer) => void {
  const key = Buffer.alloc(16);
  seed.forEach((word, i) => {
    key.writeUInt32LE(word >>> 0, i * 4);
  });
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  return (target) => {
    cipher.update(zeros.subarray(0, target.length)).copy(target);
  };
}

function source(kind: GenContentKind, file: PlannedFile): (target: Buffer) => void {
  if (kind === 'zeros') return (target) => target.fill(0);
  if (kind === 'random') return randomSource(file.seed);
  const text = new TextSource(new Prng(file.seed));
  return (target) => text.fill(target);
}

/** One file, written to a temp beside it and renamed into place once complete. */
async function writeFile(
  dest: string,
  file: PlannedFile,
  onBytes: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const temp = tempPathFor(dest);
  liveTemps.add(temp);
  const handle = await open(temp, 'wx', 0o644);
  try {
    const fill = source(file.content, file);
    const chunk = Buffer.alloc(Math.min(CHUNK, Math.max(1, file.size)));
    let left = file.size;
    let unreported = 0;
    while (left > 0) {
      signal?.throwIfAborted();
      const part = chunk.subarray(0, Math.min(chunk.length, left));
      fill(part);
      await handle.write(part, 0, part.length);
      left -= part.length;
      unreported += part.length;
      if (unreported >= PROGRESS_STEP) {
        onBytes(unreported);
        unreported = 0;
      }
    }
    await handle.close();
    await rename(temp, dest);
    liveTemps.delete(temp);
    onBytes(unreported);
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    liveTemps.delete(temp);
    throw error;
  }
}

async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const dest = join(dir, MANIFEST);
  const temp = tempPathFor(dest);
  liveTemps.add(temp);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, dest);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  } finally {
    liveTemps.delete(temp);
  }
}

async function sweepTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (isStaleTempName(name)) await unlink(join(dir, name)).catch(() => {});
  }
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
    return manifest.generator === 'globpipe gen' ? manifest : undefined;
  } catch {
    return undefined;
  }
}

function sameParameters(a: GenParameters, b: GenParameters): boolean {
  const keys: (keyof GenParameters)[] = ['files', 'size', 'depth', 'fanout', 'content', 'preset', 'seed'];
  return keys.every((key) => a[key] === b[key]);
}

function describe(parameters: GenParameters): string {
  const { files, size, depth, fanout, content, seed, preset } = parameters;
  return `${preset === null ? '' : `preset ${preset}, `}${files} files, size ${size}, depth ${depth}, fanout ${fanout}, content ${content}, seed ${seed}`;
}

async function listDir(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new GlobpipeError('EUSAGE', `dir ${dir} is not a directory`);
    }
    throw error;
  }
}

/**
 * Writes a synthetic dataset into `options.dir`, deterministic from the seed: the same
 * parameters write the same bytes. Idempotent: when the directory's manifest records the
 * same parameters and a complete run, nothing is written (`upToDate`). A directory that is
 * not empty and holds no dataset of these parameters is refused (EUSAGE): gen never
 * overwrites or removes what it did not write. Bad options reject with EUSAGE, naming the
 * option, before anything is written.
 */
export async function gen(options: GenOptions): Promise<GenSummary> {
  const started = performance.now();
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new GlobpipeError('EUSAGE', 'dir expects the directory to write the dataset into');
  }
  const parameters = resolveParameters(options);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new GlobpipeError('EUSAGE', `concurrency expects an integer >= 1, got ${String(concurrency)}`);
  }
  const dir = resolve(options.dir);
  const plan = planDataset(parameters);
  const bytes = plan.reduce((sum, file) => sum + file.size, 0);
  const summary = (written: number): GenSummary => ({
    dir,
    files: plan.length,
    bytes,
    written,
    upToDate: written === 0,
    seconds: (performance.now() - started) / 1000,
    parameters,
  });

  const entries = await listDir(dir);
  const manifest = entries === undefined ? undefined : await readManifest(dir);
  if (manifest !== undefined && sameParameters(manifest.parameters, parameters)) {
    if (manifest.complete) return summary(0);
    // An interrupted run of the same parameters: write it all again, the same bytes.
  } else if (entries !== undefined && entries.length > 0) {
    throw new GlobpipeError(
      'EUSAGE',
      manifest === undefined
        ? `dir ${dir} is not empty and holds no dataset of globpipe gen: choose an empty or new directory`
        : `dir ${dir} holds a dataset of other parameters (${describe(manifest.parameters)}): remove it or choose another directory`,
    );
  }
  options.signal?.throwIfAborted();

  await mkdir(dir, { recursive: true });
  const record = (complete: boolean): Manifest => ({
    generator: 'globpipe gen',
    version: MANIFEST_VERSION,
    complete,
    parameters,
    files: plan.length,
    bytes,
  });
  await writeManifest(dir, record(false));

  // Finishing an interrupted run: temps a killed run (kill -9, a crash) left are removed from
  // each directory gen writes to. Only temps of a dead process of this host are touched.
  const sweep = manifest !== undefined && !manifest.complete;
  if (sweep) await sweepTemps(dir);
  const made = new Set<string>([dir]);
  let filesDone = 0;
  let bytesDone = 0;
  const report = () => options.onProgress?.({ filesDone, files: plan.length, bytesDone, bytes: bytes });
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < plan.length && !failed) {
      options.signal?.throwIfAborted();
      const file = plan[next] as PlannedFile;
      next += 1;
      const dest = join(dir, ...file.path.split('/'));
      const parent = dirname(dest);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true });
        made.add(parent);
        if (sweep) await sweepTemps(parent);
      }
      await writeFile(
        dest,
        file,
        (n) => {
          bytesDone += n;
          if (n > 0 && n < file.size) report();
        },
        options.signal,
      );
      filesDone += 1;
      report();
    }
  };
  // Every worker ends before gen() settles: no file is left being written behind a rejection.
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, plan.length) }, () =>
      worker().catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    ),
  );
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  await writeManifest(dir, record(true));
  return summary(plan.length);
}
