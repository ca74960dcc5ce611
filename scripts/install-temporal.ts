/** Makes sure both Temporal binaries are available and prints where they are. */
import { ensureTemporalBinary, type TemporalBinary } from '../runtime/temporal-binaries';

let missing = 0;
for (const kind of ['cli', 'test-server'] as TemporalBinary[]) {
  const found = ensureTemporalBinary(kind, (line) => console.log(line));
  console.log(`${kind}: ${found ?? 'not found (the Temporal SDK will try to download it)'}`);
  if (!found) missing++;
}
process.exitCode = missing && process.argv.includes('--required') ? 1 : 0;
