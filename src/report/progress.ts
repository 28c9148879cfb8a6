import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import type { GlobpipeEvent } from '../types.js';
import { formatBytes, formatCount, formatRate, formatSeconds } from './format.js';

// cli-progress (and the readline it needs) load only when a bar is drawn.
const load = createRequire(import.meta.url);

/** So that the longest line fits 80 columns. */
const BAR_WIDTH = 20;

/** `█████░░░…`: the share done, in cli-progress's shades_classic characters. */
function bar(share: number): string {
  const full = Math.floor(share * BAR_WIDTH);
  return '\u2588'.repeat(full) + '\u2591'.repeat(BAR_WIDTH - full);
}

/** Rates and the ETA are over the last 5 s of frames (10 a second): recent, yet steady. */
const WINDOW = 50;

interface Sample {
  /** Milliseconds. */
  readonly at: number;
  /** Files done, plus the share read of each file streaming. */
  readonly units: number;
  readonly bytes: number;
}

interface Rates {
  readonly units: number;
  readonly bytes: number;
}

/**
 * What the bar says, from the run's events. Until a file is matched: `matching files…`
 * (a bar of 0/0 would be drawn full). While the glob runs the total is only what was found
 * so far, so there is no share and no ETA (it holds back while files wait for the queue:
 * a large tree's glob ends late):
 *   `████████████░░░░░░░░ 5801/8600 files, matching… | 23.8 MB | 9.8 MB/s`
 * Once the glob is complete:
 *   `███████░░░░░░░░░░░░░ 37% | 0/1 files | 196 MB / 530 MB | 45.1 MB/s | ETA 7.40 s`
 *   `█████░░░░░░░░░░░░░░░ 25% | 5000/20000 files | 20.5 MB | 20.5 MB/s | ETA 3.00 s`
 * A file counts as done when its `file` event comes, and a file that streams (a large
 * one) also counts by its `progress` events: one 500 MB file moves the bar. The bytes'
 * total is shown once the size of every file matched is known.
 */
export class ProgressState {
  #matched = 0;
  #globDone = false;
  #done = 0;
  /** Bytes read by the files done. */
  #doneBytes = 0;
  /** The files streaming now, by path: how far each is. */
  readonly #streaming = new Map<string, { bytes: number; size: number }>();
  readonly #samples: Sample[] = [];

  /** Only counters: a run of 100,000 small files costs 100,000 additions, not redraws. */
  onEvent(event: GlobpipeEvent): void {
    switch (event.type) {
      case 'match':
        this.#matched = event.matched;
        break;
      case 'glob-end':
        this.#matched = event.matched;
        this.#globDone = true;
        break;
      case 'progress': {
        const streaming = this.#streaming.get(event.path);
        if (streaming === undefined)
          this.#streaming.set(event.path, { bytes: event.bytes, size: event.size });
        else streaming.bytes = event.bytes;
        break;
      }
      case 'file':
        this.#done += 1;
        this.#doneBytes += event.result.bytesIn;
        if (this.#streaming.size > 0) this.#streaming.delete(event.result.input);
        break;
    }
  }

  /** The line for a frame drawn at `now` (milliseconds); each frame is also a sample for the rates. */
  frame(now: number): string {
    let bytes = this.#doneBytes;
    let units = this.#done;
    let streamingSize = 0;
    for (const streaming of this.#streaming.values()) {
      bytes += streaming.bytes;
      streamingSize += streaming.size;
      if (streaming.size > 0) units += streaming.bytes / streaming.size;
    }
    const rates = this.#sample({ at: now, units, bytes });
    if (this.#matched === 0) return this.#globDone ? 'no files matched' : 'matching files…';
    const share = Math.min(1, units / this.#matched);
    const rate = formatRate(rates.bytes, 1);
    if (!this.#globDone) {
      return `${bar(share)} ${formatCount(this.#done)}/${formatCount(this.#matched)} files, matching… | ${formatBytes(bytes)} | ${rate}`;
    }
    const known = this.#done + this.#streaming.size === this.#matched;
    const total = known ? ` / ${formatBytes(this.#doneBytes + streamingSize)}` : '';
    const eta = rates.units > 0 ? formatSeconds((this.#matched - units) / rates.units) : '--';
    return (
      `${bar(share)} ${Math.floor(share * 100)}% | ${formatCount(this.#done)}/${formatCount(this.#matched)} files | ` +
      `${formatBytes(bytes)}${total} | ${rate} | ETA ${eta}`
    );
  }

  /** Adds a sample; the rates per second over the window's samples. */
  #sample(sample: Sample): Rates {
    const samples = this.#samples;
    samples.push(sample);
    if (samples.length > WINDOW + 1) samples.shift();
    const first = samples[0] as Sample;
    const seconds = (sample.at - first.at) / 1000;
    if (seconds <= 0) return { units: 0, bytes: 0 };
    const per = (now: number, then: number) => Math.max(0, (now - then) / seconds);
    return {
      units: per(sample.units, first.units),
      bytes: per(sample.bytes, first.bytes),
    };
  }
}

/**
 * The progress bar on a terminal. Events only update ProgressState's counters; cli-progress
 * asks for the line on its own timer, 10 times a second, and redraws only when it changed.
 */
export class ProgressBar {
  readonly #bar: cliProgressTypes.SingleBar;
  readonly #state = new ProgressState();
  readonly #stream: NodeJS.WriteStream;
  readonly #terminal: boolean;

  /**
   * `terminal`: the stream takes cursor movement (the CLI decides: a TTY, and neither
   * TERM=dumb nor NO_COLOR). Off a terminal (`--progress` into a pipe or a CI log, or a TTY
   * that wants no escapes) a frame is a line of its own, once a second.
   */
  constructor(stream: NodeJS.WriteStream, terminal = stream.isTTY === true) {
    this.#stream = stream;
    this.#terminal = terminal;
    const cliProgress = load('cli-progress') as typeof cliProgressTypes;
    this.#bar = new cliProgress.SingleBar({
      // cli-progress asks the stream itself whether it is a TTY: a plain view of one says no.
      stream: terminal ? stream : plainView(stream),
      format: () => this.#state.frame(performance.now()),
      noTTYOutput: !terminal,
      notTTYSchedule: 1000,
      hideCursor: terminal,
      clearOnComplete: true,
      stopOnComplete: false,
      synchronousUpdate: false,
      fps: 10,
      gracefulExit: false,
    });
    this.#bar.start(1, 0);
  }

  onEvent(event: GlobpipeEvent): void {
    this.#state.onEvent(event);
  }

  /**
   * Prints a line above the bar. cli-progress saved the cursor where the bar
   * started and returns there to clear it, so after the line the bar's new home
   * is saved again (DECSC); a stream that is not the terminal just gets the line.
   */
  log(stream: NodeJS.WriteStream, line: string): void {
    if (!this.#terminal || stream.isTTY !== true) {
      stream.write(`${line}\n`);
      return;
    }
    this.#stream.write('\r\x1b[K');
    stream.write(`${line}\n`);
    this.#stream.write('\x1b7');
  }

  /** Removes the bar and restores the cursor. */
  stop(): void {
    this.#bar.stop();
  }
}

/** The stream as cli-progress sees it off a terminal: writes go through, and it is no TTY. */
function plainView(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  return { write: (chunk: string) => stream.write(chunk), isTTY: false } as unknown as NodeJS.WriteStream;
}
