#!/bin/sh
# An incremental rerun with nothing changed, against a stat-walk of the same tree (and find),
# on each directory given (tmpfs, ext4, ...). Each needs `t/` (20,000 files of 4 KiB) and a
# first full run already made there (medians in separate.json and same-tree.json there):
#   globpipe -C t '**/*' -t gzip -o o --incremental m1.json
#   cp -r t t2 && globpipe -C t2 '**/*' -t gzip,brotli -o t2 --incremental m2.json
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
G="node $here/bin/globpipe.js"
W="node $here/bench/stat-walk.mjs"
for dir in "$@"; do
  cd "$dir"
  hyperfine -N -w 2 -r 15 --export-json separate.json "$W t" "$W t o" "find t -printf '%s %T@\n'" \
    "$G -C t '**/*' -t gzip -o o --incremental m1.json -q"
  hyperfine -N -w 2 -r 15 --export-json same-tree.json "$W t2" "find t2 -printf '%s %T@\n'" \
    "$G -C t2 '**/*' -t gzip,brotli -o t2 --incremental m2.json -q"
done
