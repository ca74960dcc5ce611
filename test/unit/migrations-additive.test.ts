import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const folder = path.resolve(__dirname, '../../db/migrations');

/**
 * During a rolling upgrade the previous release's processes run on the new schema, so a migration
 * may add but not take away or change what they use. Releases up to 0.1.0 made the migrations
 * before this one; from here on each is held to it.
 */
const FIRST_HELD = 9;

/** What a process of the previous release could trip over, with what to do instead. */
const BREAKING: [RegExp, string][] = [
  [/\bdrop\s+(table|column|type|view|function)\b/i, 'drop it in a later release, once no running version uses it'],
  [/\brename\b/i, 'add the new name beside the old one and move readers over first'],
  [/\balter\s+column\s+"?\w+"?\s+(set\s+data\s+)?type\b/i, 'add a column of the new type instead'],
  [/\balter\s+column\s+"?\w+"?\s+set\s+not\s+null\b/i, 'add the column with a default, or check in the code first'],
  [/\bdrop\s+(index|schema|policy|constraint)\b/i, 'drop it in a later release, once no running version relies on it'],
  // Rows the previous release writes must still be accepted.
  [/\badd\s+column\b(?![^;]*\bdefault\b)[^;]*\bnot\s+null\b/i, 'give the new column a default, or let it be null'],
  [/\badd\s+constraint\b|\bcreate\s+unique\s+index\b/i, 'enforce it in the code first, then in a later release'],
];

function breakingStatements(sql: string): string[] {
  return sql
    .split('--> statement-breakpoint')
    .flatMap((statement) =>
      BREAKING.filter(([pattern]) => pattern.test(statement)).map(([, instead]) => `${statement.trim()}: ${instead}`),
    );
}

describe('migrations keep the previous release running', () => {
  it('finds what would break it', () => {
    expect(breakingStatements('ALTER TABLE "tenants" DROP COLUMN "api_key_hash";')).toHaveLength(1);
    expect(breakingStatements('ALTER TABLE "t" ALTER COLUMN "c" SET DATA TYPE text;')).toHaveLength(1);
    expect(breakingStatements('ALTER TABLE "t" RENAME COLUMN "a" TO "b";')).toHaveLength(1);
    expect(breakingStatements('ALTER TABLE "t" ADD COLUMN "c" text NOT NULL;')).toHaveLength(1);
    expect(breakingStatements('ALTER TABLE "t" ADD COLUMN "c" text DEFAULT \'x\' NOT NULL;')).toEqual([]);
    expect(breakingStatements('CREATE UNIQUE INDEX "u" ON "t" ("c");')).toHaveLength(1);
    expect(breakingStatements('DROP POLICY "tenant_isolation" ON "t";')).toHaveLength(1);
    expect(
      breakingStatements(
        'ALTER TABLE "t" ADD COLUMN "c" text;--> statement-breakpoint\nCREATE INDEX "i" ON "t" ("c");',
      ),
    ).toEqual([]);
  });

  it('only adds, from the migrations after release 0.1.0 on', () => {
    const held = readdirSync(folder).filter(
      (file) => /^\d{4}_.*\.sql$/.test(file) && Number(file.slice(0, 4)) >= FIRST_HELD,
    );
    const breaking = held.flatMap((file) =>
      breakingStatements(readFileSync(path.join(folder, file), 'utf8')).map((s) => `${file}: ${s}`),
    );
    expect(breaking).toEqual([]);
  });
});
