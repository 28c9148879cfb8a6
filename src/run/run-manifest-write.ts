import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { hashFile } from '../io/hash-file.js';
import type { Settings } from '../options/settings.js';
import {
  inputEntry,
  type ManifestInput,
  type ManifestOutput,
  manifestHeader,
  type RunManifest,
} from '../report/run-manifest.js';
import type { GlobpipeEvent, RunOptions, Summary } from '../types.js';

/** Outputs hashed at once: reading back is I/O bound, and a run's own queue is done by then. */
const HASHING = 8;

/** Each written output's size and sha256, read back once the run is over, HASHING at a time. */
async function hashOutputs(out: string, inputs: ManifestInput[]): Promise<ManifestInput[]> {
  const done: ManifestInput[] = new Array(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const index = next++;
      const input = inputs[index] as ManifestInput;
      if (input.status !== 'written') {
        done[index] = input;
        continue;
      }
      const outputs: ManifestOutput[] = [];
      for (const output of input.outputs) {
        const figures = await hashFile(join(out, output.path));
        outputs.push({ ...output, size: figures?.size ?? null, sha256: figures?.sha256 ?? null });
      }
      done[index] = { ...input, outputs };
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASHING, inputs.length) }, worker));
  return done;
}

/** The header on one line, then one line per input: compact for a million inputs, still greppable and diffable. */
function serialize(manifest: RunManifest): string {
  const { inputs, ...header } = manifest;
  const lines = inputs.map((input) => JSON.stringify(input));
  return `${JSON.stringify(header).slice(0, -1)},"inputs":[\n${lines.join(',\n')}\n]}\n`;
}

/** Writes the manifest atomically: a temp beside it, then a rename, so a reader never sees half of it. */
export async function writeRunManifest(path: string, manifest: RunManifest): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, serialize(manifest), { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Runs with `manifest` set: the run's `file` events are collected as they pass to the caller's
 * onEvent, then the outputs are hashed and the manifest written. A manifest that cannot be
 * written is in the summary (`manifest.error`), not a rejection: the files are written.
 */
export async function runRecorded(
  settings: Settings,
  options: RunOptions,
  runPipeline: (settings: Settings) => Promise<Summary>,
): Promise<Summary> {
  const path = settings.manifest as string;
  const inputs: ManifestInput[] = [];
  const onEvent = (event: GlobpipeEvent) => {
    if (event.type === 'file') inputs.push(inputEntry(event.result));
    settings.onEvent(event);
  };
  const summary = await runPipeline({ ...settings, onEvent });
  inputs.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  try {
    const manifest: RunManifest = {
      ...manifestHeader(settings, options),
      inputs: await hashOutputs(settings.out, inputs),
    };
    await writeRunManifest(path, manifest);
    return { ...summary, manifest: { path } };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { ...summary, manifest: { path, error: `cannot write the manifest ${path} (${code})` } };
  }
}
