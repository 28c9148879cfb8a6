// A transform written in TypeScript (loaded through jiti, no build step):
// `globpipe -C dist '**/*.{js,css}' -t ./examples/banner.ts -o dist-bannered`
import type { BufferTransform, FileInfo } from 'globpipe';

const year: number = 2026;

function banner(file: FileInfo): string {
  return `/*! ${file.path} | ${file.size} bytes | (c) ${year} */\n`;
}

const transform: BufferTransform = {
  name: 'banner',
  buffer: (content: Buffer, file: FileInfo): string => banner(file) + content.toString('utf8'),
};

export default transform;
