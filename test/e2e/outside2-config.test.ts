import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, runCli, tempDir } from '../helpers.js';

describe('config files, as an outside user breaks them', () => {
  it('a default export that is a promise that rejects: exit 2 naming the file and the cause, no stack', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'alpha\n');
    writeFileSync(
      join(dir, 'globpipe.config.mjs'),
      "export default (async () => { throw new TypeError('no options today'); })();\n",
    );
    const result = await runCli(['a.txt', '-o', 'out'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('globpipe.config.mjs: cannot load: TypeError: no options today');
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

describe('a config search from a directory Node cannot name', () => {
  it('(not UTF-8) is exit 2, not a config found further up run in its place', () => {
    const top = tempDir();
    writeFileSync(join(top, 'globpipe.config.json'), '{ "out": "parent-out" }\n');
    writeFileSync(join(top, 'p.txt'), 'parent\n');
    // The child's name is the byte 0xff: process.cwd() turns it into U+FFFD, a path that does not exist.
    const child = Buffer.concat([Buffer.from(`${top}/`), Buffer.from([0xff])]);
    mkdirSync(child);
    writeFileSync(Buffer.concat([child, Buffer.from('/globpipe.config.json')]), '{ "out": "child-out" }\n');
    writeFileSync(Buffer.concat([child, Buffer.from('/c.txt')]), 'child\n');
    // spawn's cwd takes no bytes: the shell enters the directory, then runs the CLI there.
    const result = spawnSync(
      'sh',
      ['-c', 'cd "$1/$(printf \'\\377\')" && exec "$2" "$3"', 'sh', top, process.execPath, bin],
      { encoding: 'utf8' },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no such directory');
    expect(existsSync(join(top, 'parent-out'))).toBe(false);
  });
});
