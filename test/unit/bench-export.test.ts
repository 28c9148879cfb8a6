import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  baselineFor,
  csvField,
  readBaseline,
  toCSV,
  toJSON,
  toMarkdown,
  toSVG,
  writeExports,
} from '../../src/bench/export.js';
import { chartSpec } from '../../src/bench/svg.js';
import { GlobpipeError } from '../../src/index.js';
import { cellResult, FILES, manyCells, report } from '../bench-fixture.js';
import { root, tempDir } from '../helpers.js';
import { validate } from '../json-schema.js';

const schema = JSON.parse(readFileSync(join(root, 'docs', 'bench-schema.json'), 'utf8'));

const quoted = `globpipe -C "/data, old" '**/*' -o /tmp/out -j 4`;
const oneCell = () =>
  report([
    cellResult({
      cell: { id: 'j4-warm-auto-copy', label: '-j 4 | warm', concurrency: 4, command: quoted },
      times: [1.3, 1.1, 1.2],
    }),
  ]);

/** A small RFC 4180 reader: rows of fields. */
function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (quoted && char === '"' && text[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (quoted || (char !== ',' && char !== '\n')) {
      field += char;
    } else {
      row.push(field);
      field = '';
      if (char === '\n') {
        rows.push(row);
        row = [];
      }
    }
  }
  return rows;
}

/** Throws unless `xml` is one element with every tag closed in order (no parser needed). */
function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  const body = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  for (const match of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (selfClosing === '/') continue;
    if (closing === '/') {
      if (stack.pop() !== name) throw new Error(`</${name}> closes ${stack.at(-1) ?? 'nothing'}`);
    } else stack.push(name as string);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(' ')}`);
  if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(body)) throw new Error('a bare &');
}

describe('toJSON', () => {
  it('validates against docs/bench-schema.json', () => {
    const withBaseline = report([
      cellResult({ cell: { id: 'a', label: 'a' }, times: [1, 2], baseline: { median: 1, change: 0.5 } }),
    ]);
    for (const bench of [report(manyCells()), oneCell(), { ...oneCell(), fio: undefined }, withBaseline]) {
      expect(validate(schema, toJSON(bench))).toEqual([]);
    }
  });

  it('is rejected by the schema check when a hyperfine field is missing or mistyped', () => {
    const json = JSON.parse(JSON.stringify(toJSON(oneCell())));
    delete json.results[0].median;
    json.results[0].parameters.cache = 'lukewarm';
    const errors = validate(schema, json);
    expect(errors).toContain('$.results[0]: missing median');
    expect(errors.some((error) => error.startsWith('$.results[0].parameters.cache'))).toBe(true);
  });

  it("carries hyperfine's fields with the right numbers", () => {
    const json = toJSON(report(manyCells()));
    const cold = json.results.find((result) => result.globpipe.id === 'j16-cold-auto-copy');
    expect(cold).toBeDefined();
    const times = cold?.times ?? [];
    expect(times).toHaveLength(10);
    const sorted = [...times].sort((a, b) => a - b);
    expect(cold?.median).toBeCloseTo(((sorted[4] as number) + (sorted[5] as number)) / 2, 12);
    expect(cold?.mean).toBeCloseTo(times.reduce((sum, t) => sum + t, 0) / times.length, 12);
    expect(cold?.min).toBe(sorted[0]);
    expect(cold?.max).toBe(sorted[9]);
    expect(cold?.exit_codes).toEqual(Array(10).fill(0));
    expect(cold?.parameters).toEqual({
      concurrency: '16',
      cache: 'cold',
      read: 'auto',
      work: 'copy',
      threadpool: '4',
    });
    expect(cold?.globpipe.threadpool).toBeNull();
    expect(cold?.globpipe.filesPerSecond).toBeCloseTo(FILES / (cold?.median ?? 0), 6);
    expect(json.globpipe.dataset.histogram.at(-1)?.to).toBeNull();
    expect(json.globpipe.runs).toBe(10);
  });

  it('is plain JSON: nothing lost in JSON.stringify', () => {
    const json = toJSON(report(manyCells()));
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('toCSV', () => {
  it("puts hyperfine's columns first and quotes a command with a comma and quotes", () => {
    const text = toCSV(oneCell());
    const [header, row] = parseCSV(text);
    expect(header?.slice(0, 9)).toEqual([
      ...['command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max'],
      'parameter_concurrency',
    ]);
    expect(row).toHaveLength(header?.length ?? -1);
    expect(row?.[0]).toBe(quoted);
    expect(text).toContain(`"globpipe -C ""/data, old"" '**/*' -o /tmp/out -j 4",`);
    expect(Number(row?.[3])).toBe(1.2);
    expect(row?.[header?.indexOf('verified') ?? -1]).toBe('true');
  });

  it('quotes fields as RFC 4180 asks', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a "b"')).toBe('"a ""b"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(0.5)).toBe('0.5');
  });
});

describe('toMarkdown', () => {
  it('has a row for each cell, with units, and the header facts', () => {
    const bench = report(manyCells());
    const text = toMarkdown(bench);
    const rows = text.split('\n').filter((line) => line.startsWith('| -j') || line.startsWith('| sync'));
    expect(rows).toHaveLength(9);
    for (const result of bench.cells) expect(text).toContain(`| ${result.cell.label} |`);
    expect(text).toContain('| -j 16, cold, copy | 2.04');
    for (const unit of [' s (', 'files/s', 'MiB/s', 'IOPS', ' ms /', ' µs', 'MiB |', '✓']) {
      expect(text).toContain(unit);
    }
    expect(text).toContain(bench.answer);
    expect(text).toContain('ext4 on /dev/sda1');
    expect(text).toContain('20,000 files, 78.1 MiB');
    expect(text).toContain('0 B–4.0 KiB: 5,000 files (9.5 MiB) · ≥ 4.0 KiB: 15,000 files');
    expect(text).toContain('- direct reads not run: tmpfs refuses O_DIRECT');
    expect(text).toContain('iodepth 32: 80,000 IOPS');
    expect(text).toContain('Cold -j 64 reached 41%');
    expect(text).toContain(
      '| overhead (dry run) | 204 ms (200 ms – 208 ms) | 200 ms – 208 ms | – | – | – | – |',
    );
    expect(text).not.toContain('vs baseline');
  });

  it('escapes a pipe in a label, marks few runs, and shows the baseline column', () => {
    const bench = report([
      cellResult({
        cell: { id: 'a', label: '-j 4 | warm' },
        times: [1.1, 1.0, 1.2],
        baseline: { median: 1, change: 0.1 },
      }),
    ]);
    const text = toMarkdown(bench, { baseline: 'old.json' });
    expect(text).toContain('| -j 4 \\| warm | 1.100 s (1.000 s – 1.200 s) | 1.000 s – 1.200 s † |');
    expect(text).toContain('| vs baseline |');
    expect(text).toContain('+10.0% (was 1.000 s)');
    expect(text).toContain('Baseline: `old.json`');
  });
});

describe('toSVG', () => {
  it('renders many cells: both panels, axis titles, series and reference lines', async () => {
    const svg = await toSVG(report(manyCells()));
    expect(svg.startsWith('<svg')).toBe(true);
    checkWellFormed(svg);
    for (const text of [
      'Concurrency (files in flight, log2 scale)',
      'Per-file latency (ms, log scale)',
      'sync loop (warm)',
      'overhead only (no IO)',
      'ext4 (/dev/sda1)',
      'cold',
      'p99.9',
    ]) {
      expect(svg).toContain(text);
    }
  });

  it('renders a single cell', async () => {
    const svg = await toSVG(oneCell());
    expect(svg.startsWith('<svg')).toBe(true);
    checkWellFormed(svg);
    expect(svg).toContain('Concurrency (files in flight, log2 scale)');
    expect(svg).not.toContain('Per-file latency');
  });

  it('shows files/s for small files and MiB/s for large ones', () => {
    const title = (bench: ReturnType<typeof report>) => JSON.stringify(chartSpec(bench));
    expect(title(oneCell())).toContain('Throughput (files/s)');
    const large = { ...oneCell(), dataset: { ...oneCell().dataset, bytes: FILES * 1024 ** 2 } };
    expect(title(large)).toContain('Throughput (MiB/s)');
  });
});

describe('writeExports and readBaseline', () => {
  it('writes each asked-for file whole, with no temp left, and reads its JSON back as a baseline', async () => {
    const dir = tempDir();
    const bench = report(manyCells());
    const paths = {
      json: join(dir, 'b.json'),
      markdown: join(dir, 'b.md'),
      csv: join(dir, 'b.csv'),
      svg: join(dir, 'b.svg'),
    };
    await writeExports(bench, paths);
    expect(readdirSync(dir).sort()).toEqual(['b.csv', 'b.json', 'b.md', 'b.svg']);
    expect(readFileSync(paths.svg, 'utf8').startsWith('<svg')).toBe(true);
    expect(readFileSync(paths.csv, 'utf8')).toBe(toCSV(bench));
    expect(readFileSync(paths.markdown, 'utf8')).toBe(toMarkdown(bench));
    const baseline = await readBaseline(paths.json);
    expect(baseline.size).toBe(bench.cells.length);
    const first = bench.cells[0] as (typeof bench.cells)[number];
    expect(baseline.get(first.cell.id)).toBe(first.wall.median);
    const slower = { ...first, wall: { ...first.wall, median: first.wall.median * 1.5 } };
    expect(baselineFor(slower, baseline)?.change).toBeCloseTo(0.5, 12);
  });

  it('reads a plain hyperfine export by command', async () => {
    const path = join(tempDir(), 'hyperfine.json');
    writeFileSync(
      path,
      JSON.stringify({ results: [{ command: 'cp -r a b', mean: 1, median: 0.9, times: [0.9] }] }),
    );
    expect(await readBaseline(path)).toEqual(new Map([['cp -r a b', 0.9]]));
  });

  it('rejects a missing or foreign file, naming the path and the cause', async () => {
    const dir = tempDir();
    const cases: [string, string | undefined, RegExp][] = [
      [join(dir, 'missing.json'), undefined, /cannot read it: ENOENT/],
      [join(dir, 'bad.json'), '{ results: ', /not JSON/],
      [join(dir, 'other.json'), '{"runs": []}', /no `results` list/],
      [join(dir, 'nomedian.json'), '{"results": [{"command": "x"}]}', /results\[0\] \(x\) has no median/],
    ];
    for (const [path, content, cause] of cases) {
      if (content !== undefined) writeFileSync(path, content);
      const error = await readBaseline(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GlobpipeError);
      expect((error as GlobpipeError).code).toBe('EUSAGE');
      expect((error as GlobpipeError).message).toContain(path);
      expect((error as GlobpipeError).message).toMatch(cause);
    }
  });
});
