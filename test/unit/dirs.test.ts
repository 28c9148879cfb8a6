import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirBeneath, removeDirBeneath } from '../../src/io/beneath-main.js';
import { tempDir } from '../helpers.js';

describe('makeDirBeneath', () => {
  it('tells which directories it made, parents first; none when the directory was there', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'a'));
    expect(await makeDirBeneath(root, join(root, 'a', 'b', 'c'))).toEqual([
      join(root, 'a', 'b'),
      join(root, 'a', 'b', 'c'),
    ]);
    expect(await makeDirBeneath(root, join(root, 'a', 'b', 'c'))).toEqual([]);
    expect(await makeDirBeneath(root, join(root, 'a', 'b', 'd'))).toEqual([join(root, 'a', 'b', 'd')]);
    expect(await makeDirBeneath(root, root)).toEqual([]);
  });

  it('two calls at once make each directory once between them', async () => {
    const root = tempDir();
    const [one, two] = await Promise.all([
      makeDirBeneath(root, join(root, 'p', 'q', 'x')),
      makeDirBeneath(root, join(root, 'p', 'q', 'y')),
    ]);
    expect([...one, ...two].sort()).toEqual(
      [join(root, 'p'), join(root, 'p', 'q'), join(root, 'p', 'q', 'x'), join(root, 'p', 'q', 'y')].sort(),
    );
  });
});

describe('removeDirBeneath', () => {
  it('removes an empty directory, and refuses one that holds anything (never recursive)', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'empty'));
    mkdirSync(join(root, 'full', 'sub'), { recursive: true });
    await removeDirBeneath(root, join(root, 'empty'));
    expect(existsSync(join(root, 'empty'))).toBe(false);
    await expect(removeDirBeneath(root, join(root, 'full'))).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    expect(existsSync(join(root, 'full', 'sub'))).toBe(true);
  });

  it('follows no symlink under the root, and touches nothing outside it', async () => {
    const root = tempDir();
    const elsewhere = tempDir();
    mkdirSync(join(elsewhere, 'victim'));
    symlinkSync(elsewhere, join(root, 'link'));
    await expect(removeDirBeneath(root, join(root, 'link', 'victim'))).rejects.toMatchObject({
      code: 'ESYMLINK',
    });
    // The link itself is not a directory of ours either.
    await expect(removeDirBeneath(root, join(root, 'link'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(removeDirBeneath(root, join(elsewhere, 'victim'))).rejects.toMatchObject({
      code: 'EOUTSIDE',
    });
    await expect(removeDirBeneath(root, root)).rejects.toMatchObject({ code: 'EOUTSIDE' });
    expect(existsSync(join(elsewhere, 'victim'))).toBe(true);
    expect(existsSync(join(root, 'link'))).toBe(true);
  });

  it('a file where the directory was is not removed', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'file'), 'x');
    await expect(removeDirBeneath(root, join(root, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(existsSync(join(root, 'file'))).toBe(true);
  });
});
