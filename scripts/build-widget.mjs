// The <herald-inbox> widget as one minified ES module, dist/widget/herald-inbox.js or the file named (and its
// .gz, which the API serves to browsers that take gzip), failing when it outgrows its budget.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WIDGET_FILE = path.join(root, 'dist/widget/herald-inbox.js');
/** What an app's page downloads for the widget, gzipped, at most. */
const BUDGET_BYTES = 30 * 1024;

export async function buildWidget(file = WIDGET_FILE) {
  const result = await build({
    entryPoints: [path.join(root, 'widget/herald-inbox.ts')],
    tsconfig: path.join(root, 'widget/tsconfig.json'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2021',
    write: false,
  });
  const code = result.outputFiles[0].contents;
  const gzipped = gzipSync(code, { level: 9 });
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  const size = `${kb(code.length)}, ${kb(gzipped.length)} gzipped (budget ${kb(BUDGET_BYTES)})`;
  if (gzipped.length > BUDGET_BYTES) throw new Error(`the inbox widget is over its budget: ${size}`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
  writeFileSync(`${file}.gz`, gzipped);
  return { bytes: code.length, gzippedBytes: gzipped.length, size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const file = path.resolve(process.argv[2] ?? WIDGET_FILE);
    const { size } = await buildWidget(file);
    console.log(`[build] inbox widget: ${path.relative(root, file)}, ${size}`);
  } catch (error) {
    console.error(`[build] ${error.message}`);
    process.exit(1);
  }
}
