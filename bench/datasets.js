// Deterministic datasets for the benchmark: the same bytes on every machine and every run.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

function xorshift(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const words = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore ' +
  'magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat ' +
  'duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat ' +
  'non proident sunt culpa qui officia deserunt mollit anim id est laborum'
).split(' ');

/** Text that compresses like prose (gzip -6 to about a third), `size` bytes exactly. */
export function text(size, seed) {
  const next = xorshift(seed);
  const out = Buffer.allocUnsafe(size);
  let i = 0;
  let column = 0;
  while (i < size) {
    const word = words[next() % words.length];
    const piece = column > 70 ? '\n' : ' ';
    const chunk = `${word}${piece}`;
    column = piece === '\n' ? 0 : column + chunk.length;
    i += out.write(chunk, i);
  }
  return out;
}

/** Removes a dataset and every marker of it: a marker left from another size would pass for this one. */
function forgetDataset(root) {
  const name = `${basename(root)}.complete-`;
  mkdirSync(dirname(root), { recursive: true });
  for (const entry of readdirSync(dirname(root))) {
    if (entry.startsWith(name)) rmSync(join(dirname(root), entry), { force: true });
  }
  rmSync(root, { recursive: true, force: true });
}

/** `count` files of `size` bytes in `dirs` directories: `d17/f1234.txt`. Skipped when the marker says it exists. */
export function smallFiles(root, count, size, dirs) {
  const marker = `${root}.complete-${count}-${size}`;
  if (existsSync(marker)) return root;
  forgetDataset(root);
  for (let d = 0; d < dirs; d += 1) mkdirSync(join(root, `d${d}`), { recursive: true });
  for (let i = 0; i < count; i += 1)
    writeFileSync(join(root, `d${i % dirs}`, `f${i}.txt`), text(size, i + 1));
  writeFileSync(marker, '');
  return root;
}

/** One file of `size` bytes of text, written in 1 MiB pieces. */
export function bigFile(root, size) {
  const file = join(root, 'big.txt');
  const marker = `${root}.complete-${size}`;
  if (existsSync(marker)) return root;
  forgetDataset(root);
  mkdirSync(root, { recursive: true });
  const fd = openSync(file, 'w');
  const piece = 1024 * 1024;
  for (let written = 0, i = 0; written < size; written += piece, i += 1) {
    writeSync(fd, text(Math.min(piece, size - written), 7 + (i % 64)));
  }
  closeSync(fd);
  writeFileSync(marker, '');
  return root;
}
