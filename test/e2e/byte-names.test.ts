import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeName, fsPath } from '../../src/paths.js';
import { keepAll, runCli, tempDir } from '../helpers.js';

/** A path under `dir` whose last part is these bytes (latin-1 here: not UTF-8). */
const bytesPath = (dir: string, name: string) =>
  Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name, 'latin1')]);

/** Every file under `dir`, by the exact bytes of its relative path (shown as latin-1), with its content. */
function byteTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: Buffer, rel: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true, encoding: 'buffer' })) {
      const path = Buffer.concat([at, Buffer.from('/'), entry.name]);
      const name = rel + entry.name.toString('latin1');
      if (entry.isDirectory()) walk(path, `${name}/`);
      else files.set(name, readFileSync(path, 'utf8'));
    }
  };
  walk(Buffer.from(dir), '');
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Inputs: two names that Node's own decoding would merge (`a\xff`, `a\xfe`), a latin-1 `café`, its UTF-8 twin. */
function tree(): string {
  const dir = tempDir();
  mkdirSync(`${dir}/sub`);
  writeFileSync(bytesPath(dir, 'a\xff.txt'), 'ff\n');
  writeFileSync(bytesPath(dir, 'a\xfe.txt'), 'fe\n');
  writeFileSync(bytesPath(dir, 'caf\xe9.txt'), 'latin-1 cafe\n');
  writeFileSync(`${dir}/café.txt`, 'utf-8 cafe\n');
  writeFileSync(bytesPath(dir, 'sub/d\xe9j\xe0.md'), 'deja\n');
  return dir;
}

const names = [
  'a\xfe.txt',
  'a\xff.txt',
  'caf\xe9.txt',
  Buffer.from('café.txt').toString('latin1'),
  'sub/d\xe9j\xe0.md',
];

describe('names are bytes', () => {
  it('round-trips every byte string through its decoded name', () => {
    for (const bytes of [
      [0x61, 0xff],
      [0xed, 0xb2, 0x80],
      [0xf0, 0x80, 0x41],
      [0xc3, 0xa9],
      [0xf0, 0x9f, 0x98, 0x80],
    ]) {
      const name = decodeName(Buffer.from(bytes));
      const back = fsPath(name);
      expect(Buffer.isBuffer(back) ? back : Buffer.from(back)).toEqual(Buffer.from(bytes));
    }
  });

  it('copy, transforms and fan-out write every file under its exact byte name, none merged', async () => {
    const cwd = tree();
    for (const [args, suffixes] of [
      [[], ['']],
      [['-t', 'gzip', ...keepAll], ['.gz']],
      [
        ['-t', 'gzip,brotli', ...keepAll],
        ['.br', '.gz'],
      ],
    ] as const) {
      const out = tempDir();
      const result = await runCli(['-C', cwd, ...args, '-o', out]);
      expect(result.code, result.stderr).toBe(0);
      expect([...byteTree(out).keys()]).toEqual(
        names.flatMap((name) => suffixes.map((suffix) => name + suffix)).sort(),
      );
    }
    const out = tempDir();
    await runCli(['-C', cwd, '-o', out]);
    expect(byteTree(out)).toEqual(byteTree(cwd));
  });

  it('in place and through --exec {in}/{rel}, with the exact names', async () => {
    const cwd = tree();
    const inPlace = await runCli(['-C', cwd, '--in-place', '-t', 'replace', '--from', 'e', '--to', 'E']);
    expect(inPlace.code, inPlace.stderr).toBe(0);
    expect(byteTree(cwd).get('a\xfe.txt')).toBe('fE\n');
    expect([...byteTree(cwd).keys()]).toEqual([...names].sort());
    for (const command of ['cat {in}', 'cat {rel}', 'wc -c < {rel}']) {
      const out = tempDir();
      const result = await runCli(['-C', cwd, '--exec', command, '-o', out]);
      expect(result.code, `${command}: ${result.stderr}`).toBe(0);
      expect([...byteTree(out).keys()]).toEqual([...names].sort());
    }
  });

  it('--json carries each such name exactly, as base64 beside its escaped form; text output escapes it', async () => {
    const cwd = tree();
    const result = await runCli(['-C', cwd, '-o', tempDir(), '--json']);
    const files = result.stdout
      .split('\n')
      .filter((line) => line.includes('"type":"file"'))
      .map((line) => JSON.parse(line) as { input: string; inputBase64?: string; outputsBase64?: string[] });
    const exact = files.map((file) =>
      file.inputBase64 === undefined
        ? Buffer.from(file.input).toString('latin1')
        : Buffer.from(file.inputBase64, 'base64').toString('latin1'),
    );
    expect(exact.sort()).toEqual([...names].sort());
    expect(files.find((file) => file.input === 'café.txt')?.inputBase64).toBeUndefined();
    const text = await runCli(['-C', cwd, '-o', tempDir(), '--dry-run']);
    expect(text.stdout).toContain('a\\377.txt -> ');
  });
});
