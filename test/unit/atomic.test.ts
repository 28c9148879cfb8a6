import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isStaleTempName, placeOf, tempPathFor } from '../../src/io/atomic.js';

/** A pid that ran and is gone. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('temp names', () => {
  it('carry the pid and the place (host, boot, pid namespace) of the run that made them', () => {
    const temp = tempPathFor('/out/dir/index.html');
    expect(temp).toMatch(
      new RegExp(`^/out/dir/\\.index\\.html\\.${process.pid}-${placeOf()}[0-9a-f]{6}-\\d+\\.globpipe-tmp$`),
    );
    expect(placeOf()).toMatch(/^[0-9a-f]{8}$/);
    // Long names stay under NAME_MAX.
    expect(
      tempPathFor(`/out/${'x'.repeat(300)}`)
        .split('/')
        .pop()?.length,
    ).toBeLessThan(255);
  });

  it('a temp is swept only when its run is certainly dead: this place, a pid that no longer runs', () => {
    const dead = deadPid();
    const name = (pid: number, place: string) => `.a.txt.${pid}-${place}abcdef-3.globpipe-tmp`;
    expect(isStaleTempName(name(dead, placeOf()))).toBe(true);
    // Alive: this process, or its parent.
    expect(isStaleTempName(name(process.pid, placeOf()))).toBe(false);
    expect(isStaleTempName(name(process.ppid, placeOf()))).toBe(false);
    // Another host, boot or container: its pids mean nothing here.
    const elsewhere = placeOf() === '00000000' ? '11111111' : '00000000';
    expect(isStaleTempName(name(dead, elsewhere))).toBe(false);
    // Names without a place (older globpipe), and names that are not temps at all.
    expect(isStaleTempName(`.a.txt.${dead}-abcdef-3.globpipe-tmp`)).toBe(false);
    expect(isStaleTempName(`a.txt.${dead}-${placeOf()}abcdef-3.globpipe-tmp`)).toBe(false);
    expect(isStaleTempName('.a.txt')).toBe(false);
  });
});
