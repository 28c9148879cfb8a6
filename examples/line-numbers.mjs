// A stream transform: numbers every line at constant memory, whatever the file's size.
// `globpipe -C logs '**/*.log' -t ./examples/line-numbers.mjs -o numbered`
import { Transform } from 'node:stream';

export default {
  name: 'line-numbers',
  stream() {
    let line = 1;
    let atLineStart = true;
    return new Transform({
      transform(chunk, _encoding, callback) {
        // Work on bytes: a multi-byte character split across chunks stays intact.
        const parts = [];
        let start = 0;
        for (let i = 0; i < chunk.length; i += 1) {
          if (atLineStart) {
            parts.push(Buffer.from(`${String(line).padStart(6)}  `));
            atLineStart = false;
          }
          if (chunk[i] === 0x0a) {
            parts.push(chunk.subarray(start, i + 1));
            start = i + 1;
            line += 1;
            atLineStart = true;
          }
        }
        if (start < chunk.length) parts.push(chunk.subarray(start));
        callback(null, Buffer.concat(parts));
      },
    });
  },
};
