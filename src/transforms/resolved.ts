import type { Duplex } from 'node:stream';
import type { FileInfo, TransformResult } from '../types.js';

/**
 * A transform as the pipeline runs it. Built-ins offer both forms (buffer for
 * small files, stream for large ones); user transforms offer the one they define.
 */
export interface ResolvedTransform {
  readonly name: string;
  readonly rename?: ((relativePath: string) => string) | undefined;
  readonly buffer?:
    | ((content: Buffer, file: FileInfo) => TransformResult | Promise<TransformResult>)
    | undefined;
  readonly stream?: ((file: FileInfo) => Duplex) | undefined;
  /** `rename` only appends to the path, so distinct inputs keep distinct outputs. */
  readonly appendsOnly?: boolean;
  /** Output equals input: the pipeline may copy the file without reading it. */
  readonly identity?: boolean;
  /** Runs a child process per file: fan-out branches then run one after another, so children stay <= concurrency. */
  readonly spawnsChild?: boolean;
  /** A module's file: its content is part of the pipeline an incremental run compares. */
  readonly modulePath?: string;
  /** Worth fewer files in flight: the work is CPU, not waiting. */
  readonly cpuBound: boolean;
}
