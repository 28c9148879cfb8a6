import { sep } from 'node:path';

/** Whether `path` is `root` itself or lies below it (both absolute and normalised). */
export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** A relative path with no `.`, `..` or empty segment: `a/b.txt`, `.env`; not `./a`, `a//b`, `../a`, `/a`. */
export function isNormal(path: string): boolean {
  return (
    path !== '' &&
    path[0] !== '/' &&
    !path.endsWith('/') &&
    !path.includes('//') &&
    !/(^|\/)\.\.?(\/|$)/.test(path)
  );
}

/** `a/b` with forward slashes, from a path of this platform. */
export function toPosix(path: string): string {
  return path.split(sep).join('/');
}
