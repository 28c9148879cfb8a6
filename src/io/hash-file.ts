import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fsPath } from '../paths.js';

/** sha256 (hex) and size of a file as it is now; undefined when it cannot be read. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string } | undefined> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(fsPath(path))) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch {
    return undefined;
  }
  return { size, sha256: hash.digest('hex') };
}
