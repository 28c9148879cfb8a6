import { SkipFile, StreamInstead } from './transforms/skip.js';

/**
 * The one error type, and every conversion of a failure into it: an IO failure
 * (from a worker's answer, a stream or an fs call), a transform's throw, an
 * abort. Nothing else in globpipe builds a file's error.
 *
 * Usage errors are found before anything is written; the CLI exits 2 on them.
 * File errors belong to one input file; the run goes on and the CLI exits 1.
 */
export type UsageErrorCode =
  | 'EUSAGE' // an unknown option, a bad value, or options that contradict each other
  | 'ENOCWD' // --cwd does not exist or is not a directory
  | 'ENOTRANSFORM' // unknown transform name or module that does not load
  | 'EOUTSIDE' // an output path escapes --out
  | 'ECOLLISION' // two inputs map to one output
  | 'EOVERWRITE'; // an output would overwrite an input without --in-place

export type FileErrorCode =
  | 'ENOTFILE' // a directory, FIFO, socket or device where a file was expected
  | 'ESYMLINK' // a dangling symlink or a symlink loop
  | 'EREAD' // reading the input failed
  | 'ETRANSFORM' // a transform threw, rejected or returned the wrong type
  | 'EWRITE' // writing the output failed
  | 'EGLOB' // a directory the glob could not read (no single file's failure)
  | 'ECHANGED' // the input changed while it was read: its output would mix two versions
  | 'ETOOLARGE' // a whole-file (buffer) transform was given more than memory may hold
  | 'EABORT'; // the run was interrupted while this file was in flight

export type ErrorCode = UsageErrorCode | FileErrorCode;

const usageCodes: ReadonlySet<string> = new Set<UsageErrorCode>([
  'EUSAGE',
  'ENOCWD',
  'ENOTRANSFORM',
  'EOUTSIDE',
  'ECOLLISION',
  'EOVERWRITE',
]);

/** The one error type globpipe throws or reports. The original error, if any, is kept as `cause`. */
export class GlobpipeError extends Error {
  override readonly name = 'GlobpipeError';
  readonly code: ErrorCode;
  /** Input path (relative to cwd) the error belongs to, when it belongs to one. */
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; path?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }

  /** True for errors found before anything is written (bad options, bad plan). */
  get isUsageError(): boolean {
    return usageCodes.has(this.code);
  }
}

/**
 * An IO failure as data: what a worker sends back for one file, and what the
 * io port reports. `side` says whether the input or the output failed.
 */
export interface IoFailure {
  readonly code: string | undefined;
  readonly message: string;
  readonly path?: string | undefined;
  /** The output being written when it failed (not its temp). */
  readonly dest?: string | undefined;
  readonly side: 'read' | 'write';
  /** For ENOTFILE: what the path is instead of a regular file (`is a FIFO (named pipe)`). */
  readonly what?: string | undefined;
}

/** A thrown fs error (or anything) as an IoFailure of `side`; its own `dest`/`what`, if set, are kept. */
export function ioFailure(error: unknown, side: 'read' | 'write'): IoFailure {
  const e = (error ?? {}) as NodeJS.ErrnoException & { dest?: string; what?: string };
  return {
    code: e.code,
    message: e.message ?? String(error),
    path: e.path,
    dest: e.dest,
    side,
    ...(e.what === undefined ? {} : { what: e.what }),
  };
}

/** A worker that died (or a message that could not reach it): every file it held fails with this. */
export function workerFailure(error: Error, side: 'read' | 'write'): IoFailure {
  return { code: 'EWORKER', message: error.message, side };
}

const syscallMessages: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on device',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  ELOOP: 'too many levels of symbolic links',
  EROFS: 'read-only file system',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
};

/** `ENOENT: no such file or directory` from a Node system error (or an IoFailure), or the message of anything else. */
export function describeCause(error: unknown): string {
  if (error instanceof GlobpipeError) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { code, message } = error as { code?: unknown; message: unknown };
    if (typeof code === 'string' && syscallMessages[code] !== undefined)
      return `${code}: ${syscallMessages[code]}`;
    return String(message) || String(error);
  }
  return String(error);
}

function isIoFailure(error: unknown): error is IoFailure {
  return typeof error === 'object' && error !== null && 'side' in error && 'message' in error;
}

function isAbort(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'AbortError';
}

/**
 * A file's error from whatever failed while it was processed:
 * `cannot read docs/a.md: ENOENT: no such file or directory` (the input, by its relative path),
 * `cannot write /out/a.md: ENOSPC: no space left on device` (the output, by its absolute path),
 * `not a regular file: it is a FIFO (named pipe)`. `side` applies to errors that do not carry one.
 */
export function fileError(
  error: unknown,
  where: { readonly input: string; readonly output: string; readonly side: 'read' | 'write' },
): GlobpipeError {
  if (error instanceof GlobpipeError) return error;
  if (isAbort(error)) return new GlobpipeError('EABORT', 'interrupted', { cause: error });
  const failure = isIoFailure(error) ? error : ioFailure(error, where.side);
  if (failure.code === 'ECHANGED') {
    return new GlobpipeError('ECHANGED', `${failure.message}; nothing was written for it`, { cause: error });
  }
  if (failure.code === 'ENOTFILE') {
    return new GlobpipeError(
      'ENOTFILE',
      `not a regular file: it ${failure.what ?? 'is not a regular file'}`,
      {
        cause: error,
      },
    );
  }
  return failure.side === 'read'
    ? new GlobpipeError('EREAD', `cannot read ${where.input}: ${describeCause(failure)}`, { cause: error })
    : new GlobpipeError('EWRITE', `cannot write ${failure.dest ?? where.output}: ${describeCause(failure)}`, {
        cause: error,
      });
}

/** A transform's throw, named after the transform: `gunzip: incorrect header check`. */
export function transformError(error: unknown, transformName: string): Error {
  if (error instanceof GlobpipeError || error instanceof SkipFile || error instanceof StreamInstead)
    return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GlobpipeError('ETRANSFORM', `${transformName}: ${message || 'failed'}`, { cause: error });
}

/** A file cut short by the run's interrupt: not the file's fault. */
export function abortedError(cause: unknown): GlobpipeError {
  return new GlobpipeError('EABORT', 'interrupted before its output was complete', { cause });
}
