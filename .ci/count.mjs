// Prints `N passed, N failed[, N skipped]` from vitest's JSON report; lint counts as one more check.
import { readFileSync } from 'node:fs';

const [file, lintFailed] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log(`no test report at ${file}: ${error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests;
const skipped = report.numPendingTests + report.numTodoTests;
// A suite that fails to load has no failed test of its own: count it then.
let failed = report.numFailedTests || (report.numFailedTestSuites ?? 0);
if (lintFailed === '1') {
  console.log('lint failed (npm run lint)');
  failed += 1;
}
if (passed === 0) {
  console.log('no test ran');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
