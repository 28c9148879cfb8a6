// gulp as a peer for the copy benchmark: src -> dest of every file, byte for byte.
const { src, dest } = require('gulp');

exports.default = () =>
  src('**/*', { cwd: process.env.BENCH_SRC, encoding: false, buffer: true, nodir: true }).pipe(
    dest(process.env.BENCH_OUT),
  );
