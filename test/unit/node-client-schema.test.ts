import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '../..');
const schemaFile = 'clients/node/src/schema.d.ts';

/**
 * `npm run client:generate -- --check`, in a child process: openapi-typescript loads an ES module that
 * Jest cannot require on Node 20.
 */
const check = (...files: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/generate-client.ts', '--check', ...files], {
    cwd: root,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      out: error.stdout + error.stderr,
    }),
  );

/** The Node client's types are generated and committed: a route changed without them fails here. */
describe("the Node client's generated types", () => {
  it('are what the current OpenAPI document makes; types made before a route changed are stale', async () => {
    // The committed types with one route's summary edited stand for types made before a route changed.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-client-schema-'));
    const stale = path.join(dir, 'schema.d.ts');
    const committed = readFileSync(path.join(root, schemaFile), 'utf8');
    const edited = committed.replace('/** Accept a notification for delivery */', '/** Accept a notification */');
    expect(edited).not.toBe(committed);
    writeFileSync(stale, edited);
    try {
      // One run checks both: building the document takes seconds, a minute on a loaded machine.
      const { code, out } = await check(schemaFile, stale);
      expect(out).toContain(`${schemaFile} is up to date\n`);
      expect(out).not.toContain(`${schemaFile} is not`);
      expect(out).toMatch(/schema\.d\.ts is not what the API's routes make: run `npm run client:generate`/);
      expect(out).toMatch(/generated: +\/\*\* Accept a notification for delivery \*\//);
      expect(code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
