import type { TemplateContent, Translation } from './content';

/** A template's translations under canonical BCP 47 tags (`fr-ca` and `fr-CA` are one locale). */
export type TranslationTable = ReadonlyMap<string, Readonly<Record<string, Translation>>>;

/** Remembered per tag: Intl's parsing of a tag costs more than rendering a short message. */
function memoized<T>(compute: (tag: string) => T): (tag: string) => T {
  const known = new Map<string, T>();
  return (tag) => {
    if (known.has(tag)) return known.get(tag)!;
    const value = compute(tag);
    if (known.size >= 1_000) known.clear(); // The bound only stops a flood of made-up tags.
    known.set(tag, value);
    return value;
  };
}

const canonical = memoized((tag) => {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
});

/** The canonical spelling of a BCP 47 tag (`FR-ca` -> `fr-CA`), or undefined for a tag that is not one. */
export function canonicalLocale(tag: string | undefined): string | undefined {
  return tag ? canonical(tag) : undefined;
}

const withParents = memoized((tag): readonly string[] => {
  const canonicalTag = canonical(tag);
  if (!canonicalTag) return [];
  const subtags = new Intl.Locale(canonicalTag).baseName.split('-');
  const chain = [canonicalTag];
  for (let n = subtags.length; n > 0; n--) chain.push(subtags.slice(0, n).join('-'));
  return Object.freeze([...new Set(chain)]);
});

/** A tag and the tags it falls back to by dropping subtags: `zh-Hant-TW`, `zh-Hant`, `zh`. */
export function localeWithParents(tag: string | undefined): readonly string[] {
  return tag ? withParents(tag) : [];
}

/** The language subtag of a tag (`fr` of `fr-CA`). */
export const localeLanguage = memoized((tag) => new Intl.Locale(tag).language);

/**
 * Where a key is looked for, in order: the recipient's locale and its parents, the tenant's default,
 * then the template's default. Nothing after that: a template that names no default says which
 * languages it speaks.
 */
export function localeChain(requested?: string, tenantDefault?: string, templateDefault?: string): string[] {
  return [
    ...new Set([
      ...localeWithParents(requested),
      ...localeWithParents(tenantDefault),
      ...localeWithParents(templateDefault),
    ]),
  ];
}

export function translationTable(locales: TemplateContent['locales']): TranslationTable {
  const table = new Map<string, Record<string, Translation>>();
  for (const [tag, keys] of Object.entries(locales ?? {})) {
    const canonical = canonicalLocale(tag);
    if (!canonical || !keys || typeof keys !== 'object') continue;
    table.set(canonical, { ...keys, ...table.get(canonical) });
  }
  return table;
}

export interface FoundTranslation {
  /** The locale the key was found in: its plural rules choose among the forms. */
  locale: string;
  translation: Translation;
}

/** The first locale of the chain that defines the key (per key: a key fr-CA lacks comes from fr). */
export function lookupTranslation(
  table: TranslationTable,
  chain: readonly string[],
  key: string,
): FoundTranslation | undefined {
  for (const locale of chain) {
    const keys = table.get(locale);
    if (keys && Object.hasOwn(keys, key) && isTranslation(keys[key])) return { locale, translation: keys[key]! };
  }
  return undefined;
}

function isTranslation(value: unknown): value is Translation {
  return typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value));
}

const pluralRules = new Map<string, Intl.PluralRules>();

function rulesFor(locale: string): Intl.PluralRules {
  let rules = pluralRules.get(locale);
  if (!rules) {
    if (pluralRules.size > 500) pluralRules.clear(); // Built once per locale; the bound only stops a flood.
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return rules;
}

/** The CLDR plural category of a count in a locale: `few` for 3 in Russian, `two` for 2 in Arabic. */
export function pluralCategory(locale: string, count: unknown): Intl.LDMLPluralRule {
  const n = typeof count === 'number' ? count : typeof count === 'string' && count.trim() ? Number(count) : NaN;
  return Number.isFinite(n) ? rulesFor(locale).select(n) : 'other';
}

const CLDR_ORDER: Intl.LDMLPluralRule[] = ['zero', 'one', 'two', 'few', 'many', 'other'];

/** Every category the locale's plural rules can select (its `other` included), in CLDR order. */
export function pluralCategories(locale: string): Intl.LDMLPluralRule[] {
  const categories = new Set(rulesFor(locale).resolvedOptions().pluralCategories);
  return CLDR_ORDER.filter((category) => categories.has(category));
}

/** The text of a found translation for a count: its plural category's form, or `other` when that form is missing. */
export function chooseTranslation({ locale, translation }: FoundTranslation, count?: unknown): string | undefined {
  if (typeof translation === 'string') return translation;
  const category = pluralCategory(locale, count);
  const text = Object.hasOwn(translation, category) ? translation[category] : translation.other;
  return typeof text === 'string' ? text : undefined;
}

/** The template's locale a message is written in: the first of the chain it has. */
export function templateLocale(table: TranslationTable, chain: readonly string[]): string | undefined {
  return chain.find((locale) => table.has(locale));
}

/**
 * For each locale, the keys another locale defines that it cannot resolve from itself or its parents,
 * and the plural forms (`key.few`) its plural rules need that the form it resolves lacks. Locales with
 * nothing missing are left out.
 */
export function missingTranslations(content: TemplateContent): Record<string, string[]> {
  const table = translationTable(content.locales);
  const allKeys = [...new Set([...table.values()].flatMap((keys) => Object.keys(keys)))].sort();
  const missing: Record<string, string[]> = {};
  for (const locale of [...table.keys()].sort()) {
    const chain = localeWithParents(locale).filter((tag) => table.has(tag));
    const needed = pluralCategories(locale);
    const gaps: string[] = [];
    for (const key of allKeys) {
      const found = lookupTranslation(table, chain, key);
      if (!found) gaps.push(key);
      else if (typeof found.translation !== 'string') {
        for (const category of needed) if (!Object.hasOwn(found.translation, category)) gaps.push(`${key}.${category}`);
      }
    }
    if (gaps.length) missing[locale] = gaps;
  }
  return missing;
}
