import { createRequire } from 'node:module';
import type { ResolvedTransform } from './resolved.js';

/**
 * What a file's type says about compressing it, as web servers decide: jshttp's `mime-types`
 * names the type from the extension, and `compressible` (what Express's `compression` asks)
 * says whether that type is worth compressing. Both are loaded on first use: their data
 * (mime-db, ~200 KB of JSON) is parsed only by a run that compresses, never by a copy.
 */
const load = createRequire(import.meta.url);
type Lookup = (path: string) => string | false;
type Compressible = (type: string) => boolean | undefined;
let lookupFn: Lookup | undefined;
let compressibleFn: Compressible | undefined;
const lookup: Lookup = (path) => {
  lookupFn ??= (load('mime-types') as { lookup: Lookup }).lookup;
  return lookupFn(path);
};
const compressible: Compressible = (type) => {
  compressibleFn ??= load('compressible') as Compressible;
  return compressibleFn(type);
};

/** What globpipe's compressors append: a file that ends so is one of their outputs. */
export const COMPRESSED_EXTENSIONS = ['.gz', '.br', '.zst'] as const;

/**
 * gzip files that mime-db types by what they hold: `.svgz` is image/svg+xml, which compressible
 * calls compressible. Compressing one again costs a brotli 11 for an output minRatio drops, or,
 * when kept, gives a `.svgz.gz` that a server would send gzipped twice.
 */
const GZIP_CONTAINERS: readonly string[] = ['.svgz'];

/** A built-in compressor: its rename only appends, and what it appends is a compressed type. */
export function isCompressor(t: ResolvedTransform): boolean {
  if (t.appendsOnly !== true || t.rename === undefined) return false;
  return (COMPRESSED_EXTENSIONS as readonly string[]).includes(t.rename('x').slice(1));
}

/** `a/b.min.JS` -> `.JS`, as written; '' for none (`Makefile`, `.env`, `a.d/x`). */
export function extensionOf(path: string): string {
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  return dot > slash + 1 ? path.slice(dot) : '';
}

/** The file's MIME type from its extension (`image/png`), or undefined when the extension is unknown. */
export function typeOf(path: string): string | undefined {
  const ext = extensionOf(path);
  if (ext === '') return undefined;
  return lookup(ext.slice(1)) || undefined;
}

/**
 * Why a file of this extension is not worth compressing (`not worth compressing (image/png)`),
 * or undefined when it is. A type is compressed only when `compressible` says it is, as
 * Express's `compression` does: one it knows nothing about (`image/webp`, `font/woff2`) is
 * most likely a compressed container, and compressing it again costs CPU for nothing.
 *
 * An extension with no known type (`LICENSE`, `_headers`, `.tgz`) is compressed: its type is
 * unknown, not known to be compressed, and such files in a web root are mostly text. The cost
 * of a wrong guess is one compression whose output `minRatio` then drops, never a larger file.
 * Our own outputs (`.gz`, `.br`, `.zst`) are always refused, whatever mime-db says of them:
 * a rerun over its own outputs must not make `a.css.gz.br`.
 */
export function notWorthCompressing(ext: string): string | undefined {
  const lower = ext.toLowerCase();
  if ((COMPRESSED_EXTENSIONS as readonly string[]).includes(lower) || GZIP_CONTAINERS.includes(lower))
    return `already compressed (${ext})`;
  const type = lookup(ext.slice(1));
  if (type === false || compressible(type) === true) return undefined;
  return `not worth compressing (${type})`;
}

/** Brotli's encoder hint for a file: its font model for fonts, its UTF-8 text model for text. */
export type BrotliMode = 'font' | 'text' | 'generic';

const textTypes = /^text\/|[+/](?:json|xml|javascript|ecmascript)$|^application\/(?:x-)?javascript$/;
const fontTypes = /^font\/|^application\/(?:x-)?font-|^application\/vnd\.ms-fontobject$/;

/** `a.woff2` -> font, `a.css`, `a.svg`, `a.json` -> text, `a.wasm`, unknown -> generic. */
export function brotliModeOf(path: string): BrotliMode {
  const type = typeOf(path);
  if (type === undefined) return 'generic';
  if (fontTypes.test(type)) return 'font';
  return textTypes.test(type) ? 'text' : 'generic';
}
