/**
 * Whether a stream takes cursor movement (a bar redrawn in place, a line cleared): a terminal
 * that is not `TERM=dumb`, with no `NO_COLOR` set. Everything else gets plain lines, free of
 * escape sequences: a CI log, a pipe, a file, Emacs' shell, a user who asked for no escapes.
 * NO_COLOR (https://no-color.org) counts when it is set and not empty. FORCE_COLOR is not
 * consulted: globpipe prints no colour, and a pipe never becomes a terminal because of it.
 */
export function canDraw(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (stream.isTTY !== true) return false;
  if (env.TERM === 'dumb') return false;
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}
