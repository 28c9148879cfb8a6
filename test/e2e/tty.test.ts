import { execFileSync, spawn } from 'node:child_process';
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { formatBytes } from '../../src/report/format.js';
import {
  bin,
  hasScript,
  shellQuote as quote,
  readTree,
  runCli,
  site,
  siteFiles,
  tempDir,
} from '../helpers.js';

/** A transform slow enough for the bar to be drawn a few times. */
function slowModule(): string {
  const path = join(tempDir(), 'slow.mjs');
  writeFileSync(
    path,
    "export default { name: 'slow', async buffer(c) { await new Promise((r) => setTimeout(r, 40)); return c; } };\n",
  );
  return path;
}

/** A transform module whose files wait until `go` exists. */
function heldModule(go: string): string {
  const path = join(tempDir(), 'held.mjs');
  writeFileSync(
    path,
    `import { existsSync } from 'node:fs';
const wait = () => new Promise((resolve) => { const poll = () => (existsSync(${JSON.stringify(go)}) ? resolve() : setTimeout(poll, 20)); poll(); });
export default { name: 'held', async buffer(content) { await wait(); return content; } };
`,
  );
  return path;
}

/** A stream transform module: a file's first MiB passes at once, the rest once `go` exists. */
function heldStreamModule(go: string): string {
  const path = join(tempDir(), 'held-stream.mjs');
  writeFileSync(
    path,
    `import { existsSync } from 'node:fs';
import { Transform } from 'node:stream';
const wait = (done) => (existsSync(${JSON.stringify(go)}) ? done() : setTimeout(() => wait(done), 20));
export default {
  name: 'held',
  stream() {
    let passed = 0;
    return new Transform({
      transform(chunk, _encoding, callback) {
        passed += chunk.length;
        if (passed <= 1024 * 1024) callback(null, chunk);
        else wait(() => callback(null, chunk));
      },
    });
  },
};
`,
  );
  return path;
}

/** The CLI in a pseudo-terminal, its screen read as it comes. */
function inTerminal(command: string) {
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, COLUMNS: '120' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  // A test that failed midway leaves no run behind (`script` ends its child).
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return {
    screen: () => screen,
    closed,
    /** Keys typed at the terminal. */
    type: (keys: string) => child.stdin.write(keys),
    /** Waits (40 s at most) for a frame that `test` accepts, and returns it. */
    async frame(test: (frame: string) => boolean): Promise<string> {
      for (const deadline = Date.now() + 40_000; Date.now() < deadline; ) {
        const found = frames(screen).find(test);
        if (found !== undefined) return found;
        await sleep(20);
      }
      throw new Error(`no such frame in:\n${frames(screen).join('\n')}`);
    },
  };
}

/** Each line cli-progress drew: it goes to column 1, writes the line, clears the rest. */
function frames(screen: string): string[] {
  return screen
    .split('\x1b[1G')
    .slice(1)
    .flatMap((part) => (part.includes('\x1b[0K') ? [part.slice(0, part.indexOf('\x1b[0K'))] : []));
}

// `script` gives the CLI a real pseudo-terminal, as a user's shell would.
describe.runIf(hasScript())('progress bar in a terminal', () => {
  it('draws the bar while files are processed and leaves the terminal clean', () => {
    const out = tempDir();
    const command = `${quote(process.execPath)} ${quote(bin)} -C ${quote(site)} -t ${quote(slowModule())} -j 2 -o ${quote(out)}`;
    const screen = execFileSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '120' },
    });
    expect(screen).toContain('\x1b[?25l'); // cursor hidden while drawing
    expect(frames(screen)[0]).toBe('matching files…');
    expect(screen).toMatch(/\d+% \| \d+\/16 files \| [\d.]+ \S+ \| [\d.]+ \S+\/s \| ETA /);
    expect(screen).toContain('\x1b[?25h'); // and shown again
    // After the bar is cleared, the summary is the last thing on screen.
    const lastLine = screen.trimEnd().split(/\r?\n/).at(-1) ?? '';
    expect(lastLine.slice(lastLine.lastIndexOf('globpipe:'))).toMatch(
      /^globpipe: \d+ matched, \d+ written, 0 skipped, 0 failed/,
    );
    expect(lastLine.slice(lastLine.lastIndexOf('globpipe:'))).not.toContain('\x1b');
    expect(readTree(out)).toEqual(siteFiles());
  });

  it('--no-progress draws nothing in a terminal; --progress draws when piped', async () => {
    const command = `${quote(process.execPath)} ${quote(bin)} -C ${quote(site)} -o ${quote(tempDir())} --no-progress`;
    const screen = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
    expect(screen).not.toContain('\x1b[');
    const piped = await runCli(['-C', site, '-t', slowModule(), '-j', '4', '-o', tempDir(), '--progress']);
    expect(piped.code).toBe(0);
    // Frames as lines of their own (no cursor movement), then the summary.
    const frames = piped.stderr
      .split('\n')
      .filter((line) => line.includes(' files') && !line.startsWith('globpipe:'));
    expect(frames.length).toBeGreaterThan(0);
    expect(piped.stderr).not.toContain('\x1b[');
    expect(piped.stderr).toContain('files/s');
  });

  it('one large file moves the bar by its bytes: a share, bytes of its size, a rate and an ETA', async () => {
    const cwd = tempDir();
    const size = 9 * 1024 * 1024; // streamed: 8 MiB or more
    const content = Buffer.alloc(size, 'globpipe ');
    writeFileSync(join(cwd, 'big.log'), content);
    const go = join(tempDir(), 'go');
    const out = tempDir();
    const term = inTerminal(
      `${quote(process.execPath)} ${quote(bin)} -C ${quote(cwd)} -t ${quote(heldStreamModule(go))} -o ${quote(out)}`,
    );
    // While the file is held after its first MiB.
    const moving = /^\u2588*\u2591+ (\d+)% \| 0\/1 files \| (.+) \/ (.+) \| (.+)\/s \| ETA (.+)$/;
    const frame = await term.frame((f) => Number(moving.exec(f)?.[1] ?? 0) > 0);
    writeFileSync(go, '');
    expect(await term.closed).toBe(0);
    const [, share, bytes, total] = moving.exec(frame) as RegExpExecArray;
    expect(Number(share)).toBeLessThan(100);
    expect(bytes).not.toBe(formatBytes(0));
    expect(total).toBe(formatBytes(size));
    const screen = term.screen();
    expect(frames(screen)[0]).toBe('matching files…');
    expect(screen).not.toContain('0/0');
    expect(readTree(out).get('big.log')?.equals(content)).toBe(true);
  });

  it('while the glob runs: files matched so far, no share and no ETA; first `matching files…`', async () => {
    // More files than the glob runs ahead of a queue that is held (8192 waiting, then one
    // directory per readdir in flight): it cannot end meanwhile. Links to one file: quick to make.
    const cwd = tempDir();
    writeFileSync(join(cwd, 'one'), 'x');
    for (let d = 0; d < 1000; d += 1) {
      mkdirSync(join(cwd, `d${d}`));
      for (let f = 0; f < 10; f += 1) linkSync(join(cwd, 'one'), join(cwd, `d${d}`, `f${f}.txt`));
    }
    const go = join(tempDir(), 'go');
    const term = inTerminal(
      `${quote(process.execPath)} ${quote(bin)} -C ${quote(cwd)} -t ${quote(heldModule(go))} -o ${quote(tempDir())}`,
    );
    // Counts as the bar prints them, with thousands separators (`0/1,151 files`).
    const matching = /^\u2591+ 0\/([\d,]+) files, matching… \| (.+) \| (.+)\/s$/;
    const matched = (f: string) => Number(matching.exec(f)?.[1]?.replaceAll(',', '') ?? 0);
    const frame = await term.frame((f) => matched(f) > 0);
    // Ctrl-C, as a user would: the run stops, what was held finishes.
    term.type('\x03');
    writeFileSync(go, '');
    expect(await term.closed).toBe(130);
    expect(matched(frame)).toBeLessThan(10_000);
    expect(frame).not.toContain('%');
    expect(frame).not.toContain('ETA');
    const screen = term.screen();
    expect(frames(screen)[0]).toBe('matching files…');
    expect(screen).not.toContain('0/0');
    expect(screen).toMatch(/globpipe: interrupted: [\d,]+ matched, /);
  });
});
