import type { Database } from '../db/connect';
import { findTemplateSettings } from '../db/tenants';
import { liveVersions, loadPinnedTemplate, templateOutline, type VersionOutline } from '../db/templates';
import type { Channel } from '../domain/channels';
import type { TemplatePin } from '../domain/notification';
import { notFound, Problem } from './problems';

/** How deep layouts and partials may render one another. */
const MAX_DEPTH = 5;

/**
 * The template's version (the live one unless named) with the live version of every layout and partial
 * it renders, directly or through another. Missing ones are refused, naming `field`, unless `lenient`
 * (a preview warns of them instead); so is a version without a body for one of `channels`.
 */
export async function pinTemplate(
  db: Database,
  tenantId: string,
  key: string,
  version: number | undefined,
  field: string,
  { lenient = false, alsoVersions = [] as number[], channels = [] as Channel[] } = {},
): Promise<TemplatePin> {
  const template = await templateOutline(db, tenantId, key, [...(version ? [version] : []), ...alsoVersions]);
  if (!template) {
    throw lenient
      ? notFound(`No template ${key}`)
      : new Problem(422, 'Unknown template', `No template "${key}": create it with PUT /templates/${key}`, field);
  }
  const pinned = version ?? template.liveVersion;
  const row = pinned === null ? undefined : template.versions.get(pinned);
  if (pinned === null || !row) {
    const detail = version ? `Template ${key} has no version ${version}` : `Template ${key} has no live version`;
    throw lenient ? notFound(detail) : new Problem(422, 'Unknown template version', detail, field);
  }
  // An experiment's other versions may render other partials, and must have the same channels.
  const others = alsoVersions.map((v) => [v, template.versions.get(v)] as const);
  for (const [v, outline] of [[pinned, row] as const, ...others])
    if (outline) rejectMissingBodies(key, v, outline, channels);
  const referencesOf = new Map([
    [key, [...new Set([...row.references, ...others.flatMap(([, o]) => o?.references ?? [])])]],
  ]);
  const partials: Record<string, number> = {};
  let wanted = referencesOf.get(key)!;
  for (let depth = 0; wanted.length > 0; depth++) {
    if (depth >= MAX_DEPTH)
      throw new Problem(
        422,
        'Templates nested too deep',
        `${key} renders templates more than ${MAX_DEPTH} deep`,
        field,
      );
    const live = await liveVersions(db, tenantId, wanted);
    const next: string[] = [];
    for (const name of wanted) {
      const found = live.get(name);
      if (!found) {
        if (lenient) continue;
        throw new Problem(
          422,
          'Unknown partial',
          `Template ${key} renders "${name}", which has no live version: save it with PUT /templates/${name}`,
          field,
        );
      }
      partials[name] = found.version;
      referencesOf.set(name, found.references);
      next.push(...found.references.filter((r) => !referencesOf.has(r)));
    }
    wanted = [...new Set(next)];
  }
  const cycle = cycleFrom(key, referencesOf);
  if (cycle && !lenient)
    throw new Problem(
      422,
      'Templates render each other',
      `The templates render in a circle: ${cycle.join(' → ')}`,
      field,
    );
  return { key, version: pinned, partials };
}

/** The pinned template's content and sources, and the tenant's default locale, for rendering it. */
export async function templateSources(db: Database, tenantId: string, pin: TemplatePin) {
  const [loaded, settings] = await Promise.all([
    loadPinnedTemplate(db, tenantId, pin),
    findTemplateSettings(db, tenantId),
  ]);
  if (!loaded) throw notFound(`No version ${pin.version} of template ${pin.key}`);
  return { ...loaded, tenantDefaultLocale: settings.defaultLocale };
}

/** The names a template renders that are no template (with a live version) yet. */
export async function unknownReferences(db: Database, tenantId: string, references: string[]): Promise<string[]> {
  const live = await liveVersions(db, tenantId, references);
  return references.filter((name) => !live.has(name));
}

function rejectMissingBodies(key: string, version: number, outline: VersionOutline, channels: Channel[]): void {
  for (const channel of new Set(channels)) {
    if (!outline.channels.includes(channel)) {
      throw new Problem(
        422,
        'Template lacks a channel',
        `Template ${key} (version ${version}) has no ${channel} body: add one, or leave ${channel} out`,
        'channels',
      );
    }
  }
}

/** A chain of templates that comes back to one already in it, if any: it would render for ever. */
function cycleFrom(start: string, referencesOf: Map<string, string[]>, path: string[] = []): string[] | undefined {
  if (path.includes(start)) return [...path.slice(path.indexOf(start)), start];
  for (const next of referencesOf.get(start) ?? []) {
    const cycle = cycleFrom(next, referencesOf, [...path, start]);
    if (cycle) return cycle;
  }
  return undefined;
}
