import type { FileInfo } from '../types.js';
import type { ResolvedTransform } from './resolved.js';
import { addNote, SkipFile } from './skip.js';

export type Eol = 'lf' | 'crlf';

/** The bytes git and most editors call binary: a NUL in the first 8000. */
function looksBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 text, or a skip: rewriting anything else would corrupt it. */
function decodeUtf8Text(content: Buffer, name: string): string {
  if (looksBinary(content)) throw new SkipFile(`binary content (${name} works on text)`);
  try {
    return strictUtf8.decode(content);
  } catch {
    throw new SkipFile(`not valid UTF-8 text (${name} works on UTF-8; convert it first with -t encoding)`);
  }
}

/**
 * A replacement string's `$` patterns, as String.prototype.replace expands them:
 * `$$`, `$&`, `` $` ``, `$'`, `$1`..`$99`, `$<name>`. (A function replacer is used
 * only to count matches, so the expansion is done here.)
 */
export function expand(replacement: string, args: readonly unknown[]): string {
  const hasNamed = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== undefined;
  const named = hasNamed ? (args[args.length - 1] as Record<string, string | undefined>) : undefined;
  const tail = hasNamed ? 3 : 2;
  const match = args[0] as string;
  const groups = args.slice(1, args.length - tail) as (string | undefined)[];
  const offset = args[args.length - tail] as number;
  const whole = args[args.length - tail + 1] as string;
  return replacement.replace(
    /\$(\$|&|`|'|\d{1,2}|<([^>]*)>)/g,
    (token, what: string, name: string | undefined) => {
      if (what === '$') return '$';
      if (what === '&') return match;
      if (what === '`') return whole.slice(0, offset);
      if (what === "'") return whole.slice(offset + match.length);
      if (name !== undefined) return named === undefined ? token : (named[name] ?? '');
      // `$12` is group 12 when there are 12 groups, else group 1 followed by `2`.
      const two = Number(what);
      if (what.length === 2 && two >= 1 && two <= groups.length) return groups[two - 1] ?? '';
      const one = Number(what[0]);
      if (one >= 1 && one <= groups.length) return (groups[one - 1] ?? '') + what.slice(1);
      return token;
    },
  );
}

/** `-t replace --from <regex> --to <replacement>`: every match, `$1` groups, the count in the file's result. */
export function replaceTransform(pattern: RegExp, replacement: string): ResolvedTransform {
  const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
  return {
    name: 'replace',
    cpuBound: false,
    buffer(content: Buffer, file: FileInfo) {
      const text = decodeUtf8Text(content, 'replace');
      let count = 0;
      const result = text.replace(global, (...args: unknown[]) => {
        count += 1;
        return expand(replacement, args);
      });
      addNote(file, 'replacements', count);
      return count === 0 ? content : result;
    },
  };
}

/** `-t eol --eol lf|crlf`: line endings rewritten byte-wise (any ASCII-compatible text). */
export function eolTransform(eol: Eol): ResolvedTransform {
  return {
    name: 'eol',
    cpuBound: false,
    buffer(content: Buffer) {
      if (looksBinary(content)) throw new SkipFile('binary content (eol works on text)');
      const text = content.toString('latin1'); // byte-preserving: every byte maps to one char and back
      // `\r\r\n` too: every CR run before a LF goes, so no CRLF survives a conversion to LF.
      const lf = text.replace(/\r+\n/g, '\n');
      return Buffer.from(eol === 'lf' ? lf : lf.replace(/\n/g, '\r\n'), 'latin1');
    },
  };
}
