import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copied, decoded, project, SITE, summaryLines } from '../config-project.js';
import { readTree, runCli } from '../helpers.js';

const PIPELINES = `export default {
  cwd: 'site',
  out: 'out',
  pipelines: {
    precompress: { transforms: [['gzip', 'brotli']] },
    copy: { out: 'copy' },
    styles: { patterns: ['**/*.css'], out: 'styles' },
  },
};
`;

describe('named pipelines', () => {
  it('runs every pipeline in the file order, each summary naming it', async () => {
    const dir = project({ 'globpipe.config.mjs': PIPELINES });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(0);
    expect(summaryLines(result.stderr).map((line) => line.split(' matched')[0])).toEqual([
      'globpipe: precompress: 2',
      'globpipe: copy: 2',
      'globpipe: styles: 1',
    ]);
    const text = SITE['site/a.css'];
    const html = SITE['site/sub/b.html'];
    expect(decoded(join(dir, 'out'))).toEqual(
      new Map([
        ['a.css.br', text],
        ['a.css.gz', text],
        ['sub/b.html.br', html],
        ['sub/b.html.gz', html],
      ]),
    );
    expect(readTree(join(dir, 'copy'))).toEqual(copied());
    expect(readTree(join(dir, 'styles'))).toEqual(new Map([['a.css', Buffer.from(text)]]));
  });

  it('--pipeline picks one', async () => {
    const dir = project({ 'globpipe.config.mjs': PIPELINES });
    const result = await runCli(['--pipeline', 'copy'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(summaryLines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^globpipe: copy: 2 matched, 2 written/m);
    expect([...readTree(dir).keys()].filter((path) => !path.startsWith('site/')).sort()).toEqual([
      'copy/a.css',
      'copy/sub/b.html',
      'globpipe.config.mjs',
    ]);
  });

  it('--pipeline twice runs those two in the order given; --json summaries carry `pipeline`', async () => {
    const dir = project({ 'globpipe.config.mjs': PIPELINES });
    const result = await runCli(['--pipeline', 'styles', '--pipeline', 'copy', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; pipeline?: string; input?: string });
    const summaries = lines.filter((line) => line.type === 'summary');
    expect(summaries.map((line) => line.pipeline)).toEqual(['styles', 'copy']);
    // Each pipeline's files in the order they finished, the pipelines in the order asked.
    const files = lines.filter((line) => line.type === 'file');
    expect(files.map((line) => line.pipeline)).toEqual(['styles', 'copy', 'copy']);
    expect(
      files
        .map((line) => line.input)
        .slice(1)
        .sort(),
    ).toEqual(['a.css', 'sub/b.html']);
    expect(readTree(dir).has('out/a.css.gz')).toBe(false);
  });

  it('--report holds one summary a line, each naming its pipeline', async () => {
    const dir = project({ 'globpipe.config.mjs': PIPELINES });
    const result = await runCli(['--pipeline', 'copy', '--pipeline', 'styles', '--report', 'r.json', '-q'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    const lines = readFileSync(join(dir, 'r.json'), 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { type: 'summary', pipeline: 'copy', written: 2 },
      { type: 'summary', pipeline: 'styles', written: 1 },
    ]);
  });

  it('an unknown pipeline is exit 2 with a did-you-mean and the list, nothing written', async () => {
    const dir = project({ 'globpipe.config.mjs': PIPELINES });
    const result = await runCli(['--pipeline', 'copy', '--pipeline', 'style'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'globpipe: Unknown pipeline `style`: did you mean `styles`? (globpipe.config.mjs defines `precompress`, `copy`, `styles`)\n',
    );
    expect([...readTree(dir).keys()].filter((path) => !path.startsWith('site/'))).toEqual([
      'globpipe.config.mjs',
    ]);
  });

  it('the exit code is the worst outcome: a pipeline with a failed file, then one that succeeds', async () => {
    const dir = project({
      'globpipe.config.mjs': `export default {
        cwd: 'site',
        pipelines: {
          broken: { out: 'broken', transforms: './fail-html.mjs' },
          fine: { out: 'fine' },
        },
      };\n`,
      'fail-html.mjs': `export default { name: 'fail-html', buffer(content, file) {
        if (file.path.endsWith('.html')) throw new Error('no HTML here');
        return content;
      } };\n`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('failed: sub/b.html: fail-html: no HTML here');
    expect(summaryLines(result.stderr).map((line) => line.split(' | ')[0])).toEqual([
      'globpipe: broken: 2 matched, 1 written, 0 skipped, 1 failed',
      'globpipe: fine: 2 matched, 2 written, 0 skipped, 0 failed',
    ]);
    expect(readTree(join(dir, 'fine'))).toEqual(copied());
  });

  it('--pipeline without a config file is exit 2', async () => {
    const dir = project();
    const result = await runCli(['--pipeline', 'copy', '-C', 'site', '-o', 'out'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^globpipe: --pipeline picks a pipeline of a config file, and none was found/,
    );
  });
});

describe('flags over the file', () => {
  it('a typed flag replaces the value; an array flag replaces the array; untyped defaults give way', async () => {
    const dir = project({
      'globpipe.config.json': JSON.stringify({
        cwd: 'site',
        out: 'out',
        transforms: ['gzip'],
        patterns: ['**/*.html'],
      }),
    });
    // No -C and no -o: the file's cwd and out stand (no yargs default overrides them).
    const result = await runCli(['-t', 'brotli', '**/*.css', '-o', 'elsewhere'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(decoded(join(dir, 'elsewhere'))).toEqual(new Map([['a.css.br', SITE['site/a.css']]]));
    expect(readTree(dir).has('out/sub/b.html.gz')).toBe(false);
  });

  it("--in-place over the file's out, --sequential over its concurrency: overrides, not conflicts", async () => {
    const dir = project({
      'globpipe.config.json': JSON.stringify({ cwd: 'site', out: 'out', concurrency: 8, transforms: 'eol' }),
      'site/c.txt': 'a\r\nb\r\n',
    });
    const result = await runCli(['--in-place', '--sequential', 'c.txt'], { cwd: dir });
    expect(result.stderr).toMatch(/-j 1$/m);
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'site', 'c.txt'), 'utf8')).toBe('a\nb\n');
    expect(readTree(dir).has('out/c.txt')).toBe(false);
  });

  it('pipelines that would write one manifest over each other are refused, naming both; their own paths work, relative to the file', async () => {
    const dir = project({ 'globpipe.config.mjs': PIPELINES });
    const flag = await runCli(['--manifest', 'm.json'], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(
      `globpipe.config.mjs: pipelines \`precompress\` and \`copy\` would both write the --manifest file ${join(dir, 'm.json')}`,
    );
    const shared = project({
      'globpipe.config.mjs': PIPELINES.replace("out: 'out',", "out: 'out',\n  incremental: 'state.json',"),
    });
    const incremental = await runCli([], { cwd: shared });
    expect(incremental.code).toBe(2);
    expect(incremental.stderr).toContain('would both write the --incremental file');
    expect([...readTree(shared).keys()].filter((path) => !path.startsWith('site/'))).toEqual([
      'globpipe.config.mjs',
    ]);
    const own = project({
      'conf/globpipe.config.mjs': `export default {
  cwd: '../site',
  pipelines: {
    copy: { out: '../copy', manifest: 'copy.json' },
    styles: { patterns: ['**/*.css'], out: '../styles', manifest: 'styles.json' },
  },
};
`,
    });
    const ok = await runCli(['--config', 'conf/globpipe.config.mjs'], { cwd: own });
    expect(ok.stderr).toMatch(/^globpipe: styles: 1 matched, 1 written/m);
    expect(ok.code).toBe(0);
    const inputsOf = (file: string) =>
      (
        JSON.parse(readFileSync(join(own, 'conf', file), 'utf8')) as { inputs: { path: string }[] }
      ).inputs.map((input) => input.path);
    expect(inputsOf('copy.json')).toHaveLength(2);
    expect(inputsOf('styles.json')).toHaveLength(1);
  });
});
