// Walks trees with readdir and stats every file: the floor an incremental rerun is measured against.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

let files = 0;
let bytes = 0;
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else {
      bytes += statSync(path).size;
      files += 1;
    }
  }
};
// Several trees (an input tree and its --out): each walked in turn.
for (const dir of process.argv.length > 2 ? process.argv.slice(2) : ['.']) walk(dir);
console.log(`${files} files, ${bytes} bytes`);
