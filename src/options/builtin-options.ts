import { isBuiltinName, parsePattern } from '../transforms/builtins.js';
import { encodingExamples, unknownEncoding } from '../transforms/encoding-names.js';
import type { RunOptions } from '../types.js';
import { OptionError } from './names.js';

/** What `transforms` names as built-ins: a string spec that is a built-in's name is that built-in (resolve.ts). */
function builtinsNamed(transforms: RunOptions['transforms']): Set<string> {
  const specs = [transforms].flat(2) as unknown[];
  return new Set(specs.filter((spec): spec is string => typeof spec === 'string' && isBuiltinName(spec)));
}

/**
 * The built-ins' own options, checked before any transform is made, so that errors about
 * them name options as the caller does (the built-ins would name them one way for all).
 */
export function checkBuiltinOptions(options: RunOptions): void {
  const { eol, from } = options;
  if (eol !== undefined && eol.toLowerCase() !== 'lf' && eol.toLowerCase() !== 'crlf') {
    throw new OptionError((n) => `Expected ${n.name('eol')} to be lf or crlf, got ${n.value(eol)}`);
  }
  for (const key of ['fromEncoding', 'toEncoding'] as const) {
    const value = options[key];
    const problem = value === undefined ? undefined : unknownEncoding(value);
    if (problem !== undefined) {
      throw new OptionError((n) => `Unknown encoding \`${value}\` for ${n.name(key)}: ${problem}`);
    }
  }
  if (from !== undefined) {
    try {
      parsePattern(from);
    } catch (error) {
      const cause = (error as Error).cause;
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new OptionError((n) => `${n.name('from')} is not a valid regular expression: ${why}`, cause);
    }
  }
  const named = builtinsNamed(options.transforms);
  if (named.has('replace') && (from === undefined || options.to === undefined)) {
    throw new OptionError(
      (n) => `\`replace\` needs a pattern and a replacement: give ${n.name('from')} and ${n.name('to')}`,
    );
  }
  if (named.has('encoding') && options.fromEncoding === undefined) {
    throw new OptionError(
      (n) =>
        `\`encoding\` needs the input's encoding: give ${n.name('fromEncoding')} (such as ${encodingExamples})`,
    );
  }
}
