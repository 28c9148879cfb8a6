import { isAscii, isUtf8 } from 'node:buffer';

/**
 * What a file's bytes are, seen chunk by chunk at constant memory: valid UTF-8 or not,
 * ASCII only or not, with a NUL byte or not. A character split between two chunks is
 * judged whole (its first bytes wait for the rest).
 */
export class Utf8Scan {
  /** Valid UTF-8 so far (and at the end, once `end()` is called). */
  valid = true;
  /** A byte of 0x80 or more was seen. */
  nonAscii = false;
  /** A NUL byte was seen. */
  nul = false;
  /** Bytes seen. */
  bytes = 0;
  #carry: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.nul && chunk.includes(0)) this.nul = true;
    if (!this.nonAscii && !isAscii(chunk)) this.nonAscii = true;
    if (!this.valid || !this.nonAscii) return;
    const data = this.#carry.length === 0 ? chunk : Buffer.concat([this.#carry, chunk]);
    const whole = completeLength(data);
    if (!isUtf8(data.subarray(0, whole))) this.valid = false;
    this.#carry = Buffer.from(data.subarray(whole));
  }

  /** The input is over: a character still waiting for its last bytes makes it invalid. */
  end(): this {
    if (this.#carry.length > 0) this.valid = false;
    this.#carry = Buffer.alloc(0);
    return this;
  }
}

/** Where `data` stops holding whole characters: before a sequence whose last bytes have not come yet. */
export function completeLength(data: Buffer): number {
  const n = data.length;
  for (let back = 1; back <= Math.min(3, n); back += 1) {
    const byte = data[n - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: its lead is further back
    const needs = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return back < needs ? n - back : n;
  }
  // Three continuation bytes end it: a whole 4-byte character, or bytes that are not UTF-8 at all.
  return n;
}

/** Whole-buffer form of the scan. */
export function scanUtf8(content: Buffer): Utf8Scan {
  const scan = new Utf8Scan();
  scan.push(content);
  return scan.end();
}
