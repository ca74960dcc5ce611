import { and, desc, eq, inArray, isNull, max, or, sql } from 'drizzle-orm';
import type { TemplateContent } from '../domain/templates/content';
import type { Database } from './connect';
import { templates, templateVersions } from './schema';

export type TemplateVersionRow = typeof templateVersions.$inferSelect;

export interface TemplateSummary {
  key: string;
  liveVersion: number | null;
  latestVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What saving a version computed: its content, and what checking it found. */
export interface NewTemplateVersion {
  contentHash: string;
  content: TemplateContent;
  compiledEmailHtml?: string;
  references: string[];
  missingTranslations: Record<string, string[]>;
}

const byKey = (tenantId: string, key: string) => and(eq(templates.tenantId, tenantId), eq(templates.key, key));

/** The tenant's templates (deleted ones left out), by key. */
export async function listTemplates(db: Database, tenantId: string): Promise<TemplateSummary[]> {
  const rows = await db
    .select({
      key: templates.key,
      liveVersion: templates.liveVersion,
      createdAt: templates.createdAt,
      updatedAt: templates.updatedAt,
      latestVersion: max(templateVersions.version),
    })
    .from(templates)
    .innerJoin(
      templateVersions,
      and(eq(templateVersions.tenantId, templates.tenantId), eq(templateVersions.key, templates.key)),
    )
    .where(and(eq(templates.tenantId, tenantId), isNull(templates.deletedAt)))
    .groupBy(templates.tenantId, templates.key)
    .orderBy(templates.key);
  return rows.map((r) => ({ ...r, latestVersion: r.latestVersion ?? 0 }));
}

/** A template that is not deleted, with its versions newest first. */
export async function findTemplate(
  db: Database,
  tenantId: string,
  key: string,
): Promise<(TemplateSummary & { versions: TemplateVersionRow[] }) | undefined> {
  const [template] = await db
    .select()
    .from(templates)
    .where(and(byKey(tenantId, key), isNull(templates.deletedAt)));
  if (!template) return undefined;
  const versions = await db
    .select()
    .from(templateVersions)
    .where(and(eq(templateVersions.tenantId, tenantId), eq(templateVersions.key, key)))
    .orderBy(desc(templateVersions.version));
  return { ...template, latestVersion: versions[0]?.version ?? 0, versions };
}

/** One version; deleted templates' versions too, for the notifications that pinned them. */
export async function findTemplateVersion(
  db: Database,
  tenantId: string,
  key: string,
  version: number,
): Promise<TemplateVersionRow | undefined> {
  const [row] = await db
    .select()
    .from(templateVersions)
    .where(
      and(
        eq(templateVersions.tenantId, tenantId),
        eq(templateVersions.key, key),
        eq(templateVersions.version, version),
      ),
    );
  return row;
}

/**
 * Saves a version unless one with the same content exists (then that one is the answer). The first
 * version of a template goes live at once; later ones wait for a publish. A deleted template comes back.
 */
export async function saveTemplateVersion(
  db: Database,
  tenantId: string,
  key: string,
  version: NewTemplateVersion,
): Promise<{ version: number; created: boolean; live: boolean }> {
  return db.transaction(async (tx) => {
    await tx
      .insert(templates)
      .values({ tenantId, key })
      .onConflictDoUpdate({
        target: [templates.tenantId, templates.key],
        set: { deletedAt: null, updatedAt: new Date() },
      });
    // Concurrent saves of one template take turns here, so each numbers its version after the last.
    const [template] = await tx.select().from(templates).where(byKey(tenantId, key)).for('update');
    const [same] = await tx
      .select({ version: templateVersions.version })
      .from(templateVersions)
      .where(
        and(
          eq(templateVersions.tenantId, tenantId),
          eq(templateVersions.key, key),
          eq(templateVersions.contentHash, version.contentHash),
        ),
      );
    if (same) {
      // A template deleted and saved again with a content it had: that version is live again.
      if (template!.liveVersion === null)
        await tx.update(templates).set({ liveVersion: same.version }).where(byKey(tenantId, key));
      const live = (template!.liveVersion ?? same.version) === same.version;
      return { version: same.version, created: false, live };
    }
    const [latest] = await tx
      .select({ version: max(templateVersions.version) })
      .from(templateVersions)
      .where(and(eq(templateVersions.tenantId, tenantId), eq(templateVersions.key, key)));
    const next = (latest?.version ?? 0) + 1;
    await tx.insert(templateVersions).values({ tenantId, key, version: next, ...version });
    const live = template!.liveVersion === null;
    if (live) await tx.update(templates).set({ liveVersion: next }).where(byKey(tenantId, key));
    return { version: next, created: true, live };
  });
}

/** Makes a version the one new notifications use; false when the template or version is not there. */
export async function publishTemplateVersion(
  db: Database,
  tenantId: string,
  key: string,
  version: number,
): Promise<boolean> {
  if (!(await findTemplateVersion(db, tenantId, key, version))) return false;
  const updated = await db
    .update(templates)
    .set({ liveVersion: version, updatedAt: new Date() })
    .where(and(byKey(tenantId, key), isNull(templates.deletedAt)))
    .returning({ key: templates.key });
  return updated.length > 0;
}

/** Deletes a template for new notifications; its versions stay for those already accepted. */
export async function deleteTemplate(db: Database, tenantId: string, key: string): Promise<boolean> {
  const deleted = await db
    .update(templates)
    .set({ deletedAt: new Date(), liveVersion: null })
    .where(and(byKey(tenantId, key), isNull(templates.deletedAt)))
    .returning({ key: templates.key });
  return deleted.length > 0;
}

/** The live version of each named template that has one, with the layouts and partials it names. */
export async function liveVersions(
  db: Database,
  tenantId: string,
  keys: string[],
): Promise<Map<string, { version: number; references: string[] }>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .select({ key: templates.key, version: templateVersions.version, references: templateVersions.references })
    .from(templates)
    .innerJoin(
      templateVersions,
      and(
        eq(templateVersions.tenantId, templates.tenantId),
        eq(templateVersions.key, templates.key),
        eq(templateVersions.version, templates.liveVersion),
      ),
    )
    .where(and(eq(templates.tenantId, tenantId), inArray(templates.key, keys), isNull(templates.deletedAt)));
  return new Map(rows.map((r) => [r.key, { version: r.version, references: r.references }]));
}

/** What pinning a version needs to know of it: the templates it renders and the channels it has a body for. */
export interface VersionOutline {
  references: string[];
  channels: string[];
}

/**
 * A template's live version and the outline of the versions named and the live one, in two reads (a
 * notification's accept makes these, so it never loads the content of every version).
 */
export async function templateOutline(
  db: Database,
  tenantId: string,
  key: string,
  versions: number[],
): Promise<{ liveVersion: number | null; versions: Map<number, VersionOutline> } | undefined> {
  const [template] = await db
    .select({ liveVersion: templates.liveVersion })
    .from(templates)
    .where(and(byKey(tenantId, key), isNull(templates.deletedAt)));
  if (!template) return undefined;
  const wanted = [...new Set([...versions, ...(template.liveVersion === null ? [] : [template.liveVersion])])];
  const rows =
    wanted.length === 0
      ? []
      : await db
          .select({
            version: templateVersions.version,
            references: templateVersions.references,
            // The channels' names only: the bodies (an email's HTML) stay in the database.
            channels: sql<string[]>`array(select jsonb_object_keys(${templateVersions.content}))`,
          })
          .from(templateVersions)
          .where(
            and(
              eq(templateVersions.tenantId, tenantId),
              eq(templateVersions.key, key),
              inArray(templateVersions.version, wanted),
            ),
          );
  return {
    liveVersion: template.liveVersion,
    versions: new Map(rows.map((r) => [r.version, { references: r.references, channels: r.channels }])),
  };
}

/** What rendering a pinned template needs: the version's content and the sources of what it renders. */
export interface PinnedTemplate {
  content: TemplateContent;
  compiledEmailHtml?: string;
  /** Each layout's or partial's Liquid, by key. */
  sources: Record<string, string>;
}

/** Loads a pinned version and the layouts and partials pinned with it; undefined when the version is gone. */
export async function loadPinnedTemplate(
  db: Database,
  tenantId: string,
  pin: { key: string; version: number; partials: Record<string, number> },
): Promise<PinnedTemplate | undefined> {
  const wanted = [[pin.key, pin.version] as const, ...Object.entries(pin.partials)];
  const rows = await db
    .select({
      key: templateVersions.key,
      version: templateVersions.version,
      content: templateVersions.content,
      compiledEmailHtml: templateVersions.compiledEmailHtml,
    })
    .from(templateVersions)
    .where(
      and(
        eq(templateVersions.tenantId, tenantId),
        or(
          ...wanted.map(([key, version]) => and(eq(templateVersions.key, key), eq(templateVersions.version, version))),
        ),
      ),
    );
  const main = rows.find((r) => r.key === pin.key && r.version === pin.version);
  if (!main) return undefined;
  const sources: Record<string, string> = {};
  for (const row of rows) {
    const source = row.content.layout ?? row.content.partial;
    if (row !== main && source !== undefined) sources[row.key] = source;
  }
  return { content: main.content, compiledEmailHtml: main.compiledEmailHtml ?? undefined, sources };
}
