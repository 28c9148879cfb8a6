import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, readTree, runCli, site, siteFiles, tempDir } from '../helpers.js';

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** A transform slow enough for the bar to be drawn a few times. */
function slowModule(): string {
  const path = join(tempDir(), 'slow.mjs');
  writeFileSync(
    path,
    "export default { name: 'slow', async buffer(c) { await new Promise((r) => setTimeout(r, 40)); return c; } };\n",
  );
  return path;
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
    expect(screen).toMatch(/\d+\/\d+ files \| [\d.]+ (?:B|KiB|MiB) \| \d+ files\/s \| [\d.]+ MB\/s \| ETA/);
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
    expect(piped.stderr).toContain('files/s');
  });
});
