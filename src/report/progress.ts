import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import type { GlobpipeEvent } from '../types.js';
import { formatBytes, formatSeconds } from './format.js';

/**
 * The progress bar: files done/total, bytes, files/s, MB/s and ETA. Events
 * only update counters; cli-progress redraws on its own timer (10 fps), so a
 * run of 100,000 tiny files costs 10 redraws a second, not 100,000.
 */
// cli-progress (and the readline it needs) load only when a bar is drawn.
const load = createRequire(import.meta.url);

export class ProgressBar {
  readonly #bar: cliProgressTypes.SingleBar;
  readonly #started = performance.now();
  #matched = 0;
  #done = 0;
  #bytes = 0;
  #globDone = false;
  #timer: NodeJS.Timeout;
  readonly #stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
    const cliProgress = load('cli-progress') as typeof cliProgressTypes;
    this.#bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{bar} {value}/{total} files | {bytes} | {fps} files/s | {mbps} MB/s | ETA {eta_text}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        stopOnComplete: false,
        synchronousUpdate: false,
        fps: 10,
        gracefulExit: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(0, 0, this.#payload());
    // Payload values are computed on our own timer, also at 10 per second.
    this.#timer = setInterval(() => this.#bar.update(this.#done, this.#payload()), 100);
    this.#timer.unref();
  }

  onEvent(event: GlobpipeEvent): void {
    switch (event.type) {
      case 'match':
        this.#matched = event.matched;
        this.#bar.setTotal(this.#matched);
        break;
      case 'glob-end':
        this.#globDone = true;
        this.#bar.setTotal(event.matched);
        break;
      case 'file':
        this.#done += 1;
        this.#bytes += event.result.bytesIn;
        break;
    }
  }

  #payload() {
    const seconds = (performance.now() - this.#started) / 1000;
    const fps = seconds > 0 ? this.#done / seconds : 0;
    // Until the glob ends the total keeps growing: an ETA then would be a guess.
    const eta = this.#globDone && fps > 0 ? formatSeconds((this.#matched - this.#done) / fps) : '--';
    return {
      bytes: formatBytes(this.#bytes),
      fps: fps.toFixed(0),
      mbps: seconds > 0 ? (this.#bytes / 1e6 / seconds).toFixed(1) : '0.0',
      eta_text: eta,
    };
  }

  /**
   * Prints a line above the bar. cli-progress saved the cursor where the bar
   * started and returns there to clear it, so after the line the bar's new home
   * is saved again (DECSC); a stream that is not the terminal just gets the line.
   */
  log(stream: NodeJS.WriteStream, line: string): void {
    if (stream.isTTY !== true) {
      stream.write(`${line}\n`);
      return;
    }
    this.#stream.write('\r\x1b[K');
    stream.write(`${line}\n`);
    this.#stream.write('\x1b7');
  }

  /** Removes the bar and restores the cursor. */
  stop(): void {
    clearInterval(this.#timer);
    this.#bar.update(this.#done, this.#payload());
    this.#bar.stop();
  }
}
