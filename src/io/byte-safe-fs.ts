import * as fs from 'node:fs';
import { decodeName, fsPath } from '../paths.js';

type Callback = (error: NodeJS.ErrnoException | null, result?: unknown) => void;

/**
 * fast-glob's fs with every path passed as its bytes, and every name read back as bytes
 * (paths.ts): a name that is not UTF-8 is one entry with its exact bytes, where fast-glob alone
 * reads it as `a\ufffd`, whose lstat fails. discover.ts builds its own (it also guards the walk).
 */
export const byteSafeFs = {
  readdir(dir: string, optionsOrCallback: unknown, maybeCallback?: Callback) {
    // fast-glob calls it as fs.readdir does: (dir, callback) or (dir, options, callback).
    const withOptions = typeof optionsOrCallback !== 'function';
    const callback = (withOptions ? maybeCallback : optionsOrCallback) as Callback;
    const asBytes = { ...(withOptions ? (optionsOrCallback as object) : {}), encoding: 'buffer' } as never;
    fs.readdir(fsPath(dir), asBytes, (error: NodeJS.ErrnoException | null, items: unknown[]) => {
      if (error !== null) return callback(error);
      for (const [i, item] of items.entries()) {
        if (Buffer.isBuffer(item)) items[i] = decodeName(item);
        else (item as { name: unknown }).name = decodeName((item as { name: Buffer }).name);
      }
      callback(null, items);
    });
  },
  lstat: (path: string, callback: never) => fs.lstat(fsPath(path), callback),
  stat: (path: string, callback: never) => fs.stat(fsPath(path), callback),
  lstatSync: (path: string) => fs.lstatSync(fsPath(path)),
  statSync: (path: string) => fs.statSync(fsPath(path)),
};
