import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTree, root, site, siteFiles, tempDir } from '../helpers.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the packed package', () => {
  it('installs from its tarball elsewhere: `npx globpipe` runs, and `import { run }` works with types', () => {
    const packDir = tempDir();
    // --ignore-scripts: `npm test` has just built dist/, and a nested build would race the other test files.
    execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', packDir], {
      cwd: root,
      stdio: 'ignore',
    });
    const tarball = readdirSync(packDir).find((name) => name.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    const app = tempDir();
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync(
      npm,
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packDir, tarball as string)],
      {
        cwd: app,
        stdio: 'ignore',
      },
    );
    const installed = readdirSync(join(app, 'node_modules', 'globpipe', 'dist'));
    expect(installed).toContain('index.d.ts');
    expect(readdirSync(join(app, 'node_modules', 'globpipe'))).not.toContain('src');
    expect(readdirSync(join(app, 'node_modules', 'globpipe'))).toContain('LICENSE');
    // Every source map that ships holds its sources, or points at files that ship too.
    const pkg = join(app, 'node_modules', 'globpipe');
    const maps = readdirSync(pkg, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(pkg, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      sources.forEach((source, i) => {
        const shipped = existsSync(join(pkg, dirname(map), source));
        expect(shipped || typeof sourcesContent?.[i] === 'string', `${map}: ${source}`).toBe(true);
      });
    }

    const cliOut = join(app, 'cli-out');
    execFileSync(npm, ['exec', '--', 'globpipe', '-C', site, '-o', cliOut, '-q'], {
      cwd: app,
      stdio: 'pipe',
    });
    expect(readTree(cliOut)).toEqual(siteFiles());
    // iconv-lite, loaded on first use, is found where the package is installed.
    const latin1 = join(app, 'latin1');
    mkdirSync(latin1);
    writeFileSync(join(latin1, 'a.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const utf8 = join(app, 'utf8');
    execFileSync(
      npm,
      [
        'exec',
        '--',
        'globpipe',
        '-C',
        latin1,
        '-t',
        'encoding',
        '--from-encoding',
        'latin1',
        '-o',
        utf8,
        '-q',
      ],
      {
        cwd: app,
        stdio: 'pipe',
      },
    );
    expect(readTree(utf8)).toEqual(new Map([['a.txt', Buffer.from('café')]]));

    const libOut = join(app, 'lib-out');
    writeFileSync(
      join(app, 'use.mjs'),
      `import { run } from 'globpipe';\nconst s = await run({ cwd: ${JSON.stringify(site)}, out: ${JSON.stringify(libOut)}, transforms: ['gzip'], allTypes: true, minSize: 0, minRatio: Infinity });\nconsole.log(JSON.stringify({ written: s.written }));\n`,
    );
    const printed = execFileSync(process.execPath, ['use.mjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(printed)).toEqual({ written: siteFiles().size });
  }, 120_000);
});
