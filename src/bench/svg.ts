import type { TopLevelSpec } from 'vega-lite';
import { formatBytes, formatCount } from '../report/format.js';
import type { BenchReport, Cell, CellResult } from './types.js';

/**
 * bench's chart as SVG, drawn by vega-lite and vega in Node (renderer `none`: no browser,
 * no canvas). Two panels over concurrency on a log2 axis, one line per series (the cells'
 * settings but concurrency): throughput, with the sync loop and the overhead cell as
 * reference lines; per-file latency percentiles on a log axis. vega is imported only here,
 * when a chart is asked for: a run that writes none never loads it.
 */

/** Below this mean file size per-file cost rules, so the chart shows files/s; above, MiB/s. */
const SMALL_FILES = 64 * 1024;
const PERCENTILES = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
] as const;
const SETTINGS = ['cache', 'read', 'work', 'threadpool'] as const;

function settingText(cell: Cell, setting: (typeof SETTINGS)[number]): string {
  switch (setting) {
    case 'cache':
      return cell.cache;
    case 'read':
      return `read ${cell.read}`;
    case 'work':
      return cell.work;
    case 'threadpool':
      return `pool ${cell.threadpool ?? 'default'}`;
  }
}

/** A name for each cell's series: the settings that differ between globpipe cells (`cold · copy`). */
function seriesNamer(cells: readonly Cell[]): (cell: Cell) => string {
  const varying = SETTINGS.filter(
    (setting) => new Set(cells.map((cell) => settingText(cell, setting))).size > 1,
  );
  const shown = varying.length > 0 ? varying : (['cache', 'work'] as const);
  return (cell) => shown.map((setting) => settingText(cell, setting)).join(' · ');
}

interface Metric {
  readonly title: string;
  readonly of: (result: CellResult) => number;
  /** The throughput if the work took no time at all beyond this many seconds. */
  readonly ceiling: (seconds: number) => number;
}

function metricFor(report: BenchReport): Metric {
  const { files, bytes } = report.dataset;
  if (files > 0 && bytes / files < SMALL_FILES) {
    return {
      title: 'Throughput (files/s)',
      of: (result) => result.filesPerSecond,
      ceiling: (seconds) => files / seconds,
    };
  }
  return {
    title: 'Throughput (MiB/s)',
    of: (result) => result.mibPerSecond,
    ceiling: (seconds) => bytes / 1024 ** 2 / seconds,
  };
}

/** The vega-lite specification of the chart: a pure function of the report, for tests and for toSVG. */
export function chartSpec(report: BenchReport): TopLevelSpec {
  const metric = metricFor(report);
  const main = report.cells.filter((result) => result.cell.kind === 'globpipe');
  const series = seriesNamer(main.map((result) => result.cell));
  const concurrencies = [...new Set(report.cells.map((result) => result.cell.concurrency))].sort(
    (a, b) => a - b,
  );
  const low = concurrencies[0] ?? 1;
  const high = concurrencies[concurrencies.length - 1] ?? 1;
  const x = {
    field: 'concurrency',
    type: 'quantitative',
    // Padded by half a doubling each side, so a single concurrency still has a range.
    scale: { type: 'log', base: 2, domain: [low / Math.SQRT2, high * Math.SQRT2], nice: false },
    axis: { values: concurrencies, title: 'Concurrency (files in flight, log2 scale)', format: 'd' },
  } as const;
  const names = new Set(main.map((result) => series(result.cell)));
  // Every name whole (vega cuts legend labels at 160 px: `read direct · fsyn…` twice), and
  // twenty colours past ten series, so that no two lines share one.
  const color = {
    field: 'series',
    type: 'nominal',
    title: 'Series',
    legend: { labelLimit: 600 },
    ...(names.size > 10 ? { scale: { scheme: 'category20' } } : {}),
  } as const;
  const percentile = {
    field: 'percentile',
    type: 'nominal',
    sort: PERCENTILES.map(([, name]) => name),
    title: 'Percentile',
  } as const;

  const points = main.map((result) => ({
    series: series(result.cell),
    concurrency: result.cell.concurrency,
    value: metric.of(result),
    cell: result.cell.label,
  }));
  const references = report.cells.flatMap((result) => {
    if (result.cell.kind === 'sync-loop') {
      return [{ label: `sync loop (${result.cell.cache})`, value: metric.of(result) }];
    }
    if (result.cell.kind === 'overhead' && result.wall.median > 0) {
      return [{ label: 'overhead only (no IO)', value: metric.ceiling(result.wall.median) }];
    }
    return [];
  });
  const latencies = main.flatMap((result) =>
    PERCENTILES.flatMap(([field, name]) => {
      const ms = result.latency?.[field];
      // A log axis has no 0: a percentile under the clock's resolution is left out.
      return ms !== undefined && ms > 0
        ? [{ series: series(result.cell), concurrency: result.cell.concurrency, percentile: name, ms }]
        : [];
    }),
  );

  const throughput = {
    title: 'Throughput against concurrency',
    width: 520,
    height: 240,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', point: { filled: true, size: 50 } },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: metric.title }, color },
      },
      ...(references.length === 0
        ? []
        : [
            {
              data: { values: references },
              mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
              encoding: { y: { field: 'value', type: 'quantitative' } },
            },
            {
              data: { values: references },
              mark: { type: 'text', align: 'right', baseline: 'bottom', x: 'width', dy: -2, color: 'gray' },
              encoding: { y: { field: 'value', type: 'quantitative' }, text: { field: 'label' } },
            },
          ]),
    ],
  };
  const latency = {
    title: 'Per-file latency percentiles against concurrency',
    width: 520,
    height: 240,
    data: { values: latencies },
    mark: { type: 'line', point: { filled: true, size: 40 } },
    encoding: {
      x,
      y: {
        field: 'ms',
        type: 'quantitative',
        scale: { type: 'log' },
        axis: { tickCount: 6, format: '~g' },
        title: 'Per-file latency (ms, log scale)',
      },
      color,
      // Dash and point shape both tell the percentiles apart; the shapes' legend explains both.
      strokeDash: { ...percentile, legend: null },
      shape: percentile,
    },
  };
  const { dataset, machine } = report;
  const fs = machine.filesystem;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `globpipe bench: ${formatCount(dataset.files)} files, ${formatBytes(dataset.bytes)} on ${fs.type} (${fs.device})`,
      subtitle: `${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; ${report.runs} ${report.runs === 1 ? 'run' : 'runs'} per cell`,
    },
    vconcat: latencies.length > 0 ? [throughput, latency] : [throughput],
    resolve: { scale: { color: 'shared' } },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** The chart as an SVG document (one `<svg>` element); vega and vega-lite load on the first call. */
export async function toSVG(report: BenchReport): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(chartSpec(report)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
