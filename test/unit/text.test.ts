import { describe, expect, it } from 'vitest';
import { expand } from '../../src/transforms/text.js';

describe('expand', () => {
  const cases: [RegExp, string, string][] = [
    [/(\w+)@(\w+)/g, '$2 at $1', 'mail ada@home and bob@work'],
    [/(a)(b)?/g, '[$1|$2|$&|$$]', 'ab a ab'],
    [/(?<year>\d{4})-(?<month>\d\d)/g, '$<month>/$<year> ($<nope>)', 'on 2026-11 and 1999-01'],
    [/x/g, "<$`|$'>", 'axbxc'],
    [/(1)(2)(3)(4)(5)(6)(7)(8)(9)(10)(11)/g, '$11-$10-$1-$12-$0', '1234567891011'],
    [/(z)/g, '$2$1$9', 'zz'],
  ];
  it.each(cases)('%s with %j expands as String.prototype.replace does', (pattern, replacement, text) => {
    const ours = text.replace(pattern, (...args: unknown[]) => expand(replacement, args));
    expect(ours).toBe(text.replace(pattern, replacement));
  });
});
