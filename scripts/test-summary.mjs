// Sums Jest's --json reports into the one line CI reads: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

// `--also P F` adds checks that are not Jest's (the benchmark's smoke test).
const args = process.argv.slice(2);
let passed = 0;
let failed = 0;
const also = args.indexOf('--also');
if (also >= 0) {
  passed += Number(args[also + 1]);
  failed += Number(args[also + 2]);
  args.splice(also, 3);
}
for (const file of args) {
  if (!existsSync(file)) {
    console.log(`${file}: no report (the run did not finish)`);
    failed++;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  // A suite that failed to load has no failed tests of its own, but it failed all the same.
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
}
console.log(`${passed} passed, ${failed} failed`);
