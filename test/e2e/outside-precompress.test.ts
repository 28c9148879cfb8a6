import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTree, runCli, tempDir, writeTree } from '../helpers.js';
import { parse } from '../web-fixture.js';

const svg = `<svg xmlns="http://www.w3.org/2000/svg">${'<rect width="10" height="10"/>'.repeat(200)}</svg>`;

describe('-t precompress over what a web root holds', () => {
  it('skips .svgz, a gzip file that mime-db types as compressible image/svg+xml', async () => {
    const svgz = gzipSync(Buffer.from(svg), { level: 1 });
    const cwd = writeTree({ 'a.svgz': svgz, 'B.SVGZ': svgz, 'd.svg': svg });
    const out = tempDir();
    // Even an output that is larger is kept with --min-ratio Infinity: the type alone must decide.
    const result = await runCli([
      '-C',
      cwd,
      '-t',
      'precompress',
      '-o',
      out,
      '--min-ratio',
      'Infinity',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect([...readTree(out).keys()].sort()).toEqual(['d.svg.br', 'd.svg.gz']);
    const { summary } = parse(result.stdout);
    expect(summary.skips).toEqual([
      {
        reason: 'already compressed (.SVGZ); a pattern ending in .SVGZ selects it (--all-types: every type)',
        count: 1,
        paths: ['B.SVGZ'],
      },
      {
        reason: 'already compressed (.svgz); a pattern ending in .svgz selects it (--all-types: every type)',
        count: 1,
        paths: ['a.svgz'],
      },
    ]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    '--delete-original in a directory it cannot write: each input kept with a reason naming no internal path',
    async () => {
      const dir = mkdtempSync('/tmp/globpipe-outside-keep-');
      try {
        const cwd = join(dir, 'in');
        mkdirSync(cwd);
        writeFileSync(join(cwd, 'a.svg'), svg);
        writeFileSync(join(cwd, 'b.svg'), svg);
        mkdirSync(join(dir, 'out'));
        chmodSync(dir, 0o755);
        chmodSync(cwd, 0o555);
        chmodSync(join(dir, 'out'), 0o777);
        const args = ['-C', cwd, '-t', 'precompress', '-o', join(dir, 'out'), '--delete-original', '--json'];
        const result = await runCli(args, { asNobody: true });
        expect(result.code, result.stderr).toBe(0);
        const { files, summary } = parse(result.stdout);
        expect(files.get('a.svg')?.original).toEqual({
          deleted: false,
          reason: 'it could not be removed (EACCES: permission denied)',
        });
        expect(summary.originalsKept).toEqual([
          {
            reason: 'it could not be removed (EACCES: permission denied)',
            count: 2,
            paths: ['a.svg', 'b.svg'],
          },
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('the summary line counts one deleted original in the singular', async () => {
    const cwd = writeTree({ 'a.svg': svg });
    const result = await runCli(['-C', cwd, '-t', 'precompress', '-o', cwd, '--delete-original']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^globpipe: 1 matched, 1 written, 0 skipped, 0 failed, 1 original deleted \|/m,
    );
    expect([...readTree(cwd).keys()].sort()).toEqual(['a.svg.br', 'a.svg.gz']);
  });
});
