/**
 * Error codes, grouped by when they happen.
 *
 * Usage errors are found before anything is written; the CLI exits 2 on them.
 * File errors belong to one input file; the run goes on and the CLI exits 1.
 */
export type UsageErrorCode =
  | 'EUSAGE' // an option has a bad value
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

/** `ENOENT: no such file or directory` from a Node system error, or the message of anything else. */
export function describeCause(error: unknown): string {
  if (error instanceof GlobpipeError) return error.message;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
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
    if (code !== undefined && syscallMessages[code] !== undefined) return `${code}: ${syscallMessages[code]}`;
    return error.message || String(error);
  }
  return String(error);
}
