import { describe, expect, it } from 'vitest';
import { expandCommand, pathArgument } from '../../src/transforms/exec.js';
import type { FileInfo } from '../../src/types.js';

describe('--exec placeholders are never options', () => {
  const file = (path: string): FileInfo => ({
    path,
    absolutePath: `/tree/${path}`,
    size: 1,
    mtime: new Date(0),
  });

  it.each([
    ['-n', "'./-n'"],
    ['--help', "'./--help'"],
    ['-rf x', "'./-rf x'"],
    ['-', "'./-'"],
    ["-it's", `'./-it'\\''s'`],
    ['a-b', "'a-b'"],
    ['dir/-n', "'dir/-n'"],
    ['/abs/-n', "'/abs/-n'"],
  ])('%j -> %s', (path, argument) => {
    expect(pathArgument(path)).toBe(argument);
  });

  it('{rel}, {in} and {out} all go through it', () => {
    expect(expandCommand('cmd {rel} {in} {out}', file('-n'), '-out.tmp')).toBe(
      "cmd './-n' '/tree/-n' './-out.tmp'",
    );
    expect(expandCommand('wc -c {rel}', file('--help'), undefined)).toBe("wc -c './--help'");
  });
});
