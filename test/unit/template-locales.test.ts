import type { TemplateContent } from '../../domain/templates/content';
import {
  chooseTranslation,
  localeChain,
  lookupTranslation,
  missingTranslations,
  pluralCategory,
  translationTable,
} from '../../domain/templates/locales';
import { renderTemplate } from '../../domain/templates/render';

/** One key with every form each language's plural rules use. */
const counted: TemplateContent = {
  sms: { text: '{{ "files" | t: count: n }}' },
  locales: {
    en: { files: { one: '{{ count }} file', other: '{{ count }} files' } },
    ru: {
      files: {
        one: '{{ count }} файл',
        few: '{{ count }} файла',
        many: '{{ count }} файлов',
        other: '{{ count }} файла*',
      },
    },
    pl: {
      files: {
        one: '{{ count }} plik',
        few: '{{ count }} pliki',
        many: '{{ count }} plików',
        other: '{{ count }} pliku',
      },
    },
    ar: {
      files: {
        zero: 'لا ملفات',
        one: 'ملف واحد',
        two: 'ملفان',
        few: '{{ count }} ملفات',
        many: '{{ count }} ملفًا',
        other: '{{ count }} ملف',
      },
    },
  },
  default_locale: 'en',
};

const sms = async (
  content: TemplateContent,
  data: Record<string, unknown>,
  locale?: string,
  tenantDefaultLocale?: string,
) => renderTemplate({ content, channel: 'sms', data, locale, tenantDefaultLocale, sources: {} });

describe('plural forms chosen by each locale’s CLDR rules', () => {
  it.each([
    ['ru', 1, 'one'],
    ['ru', 21, 'one'],
    ['ru', 3, 'few'],
    ['ru', 22, 'few'],
    ['ru', 5, 'many'],
    ['ru', 11, 'many'],
    ['ru', 0, 'many'],
    ['ru', 1.5, 'other'],
    ['pl', 1, 'one'],
    ['pl', 4, 'few'],
    ['pl', 24, 'few'],
    ['pl', 12, 'many'],
    ['pl', 25, 'many'],
    ['pl', 2.5, 'other'],
    ['ar', 0, 'zero'],
    ['ar', 1, 'one'],
    ['ar', 2, 'two'],
    ['ar', 3, 'few'],
    ['ar', 103, 'few'],
    ['ar', 11, 'many'],
    ['ar', 99, 'many'],
    ['ar', 100, 'other'],
  ])('%s %d is %s', async (locale, n, category) => {
    expect(pluralCategory(locale, n)).toBe(category);
    const expected = (counted.locales![locale]!.files as Record<string, string>)[category]!.replace(
      '{{ count }}',
      String(n),
    );
    expect((await sms(counted, { n }, locale)).message.text).toBe(expected);
  });

  it('reads a count given as a string, and takes `other` for no count at all', () => {
    expect(pluralCategory('ru', '3')).toBe('few');
    expect(pluralCategory('ru', undefined)).toBe('other');
    expect(pluralCategory('ru', 'many')).toBe('other');
  });

  it('falls back to `other` when the category’s form is missing', () => {
    const found = { locale: 'ru', translation: { one: 'один', other: 'прочие' } };
    expect(chooseTranslation(found, 1)).toBe('один');
    expect(chooseTranslation(found, 5)).toBe('прочие');
  });
});

describe('the locale fallback chain', () => {
  it('goes from the recipient’s locale through its parents to the tenant’s default, then the template’s', () => {
    expect(localeChain('fr-CA', 'de-AT', 'en')).toEqual(['fr-CA', 'fr', 'de-AT', 'de', 'en']);
    expect(localeChain('zh-Hant-TW')).toEqual(['zh-Hant-TW', 'zh-Hant', 'zh']);
  });

  it('normalises case, drops repeats and ignores tags that are not locales', () => {
    expect(localeChain('FR-ca', 'fr', 'EN')).toEqual(['fr-CA', 'fr', 'en']);
    expect(localeChain('not a locale!', undefined, 'en')).toEqual(['en']);
    expect(localeChain()).toEqual([]);
  });

  it('finds each key in the first locale that has it, template keys case-normalised', () => {
    const table = translationTable({ 'fr-ca': { hello: 'Allô' }, fr: { hello: 'Bonjour', bye: 'Au revoir' } });
    const chain = localeChain('fr-CA');
    expect(lookupTranslation(table, chain, 'hello')).toEqual({ locale: 'fr-CA', translation: 'Allô' });
    expect(lookupTranslation(table, chain, 'bye')).toEqual({ locale: 'fr', translation: 'Au revoir' });
    expect(lookupTranslation(table, chain, 'constructor')).toBeUndefined();
  });
});

const greetings: TemplateContent = {
  sms: { text: '{{ "hello" | t: name: name }} · {{ "bye" | t }}' },
  locales: {
    en: { hello: 'Hello {{ name }}', bye: 'Bye' },
    fr: { hello: 'Bonjour {{ name }}', bye: 'Au revoir' },
    'fr-CA': { hello: 'Allô {{ name }}' },
    de: { hello: 'Hallo {{ name }}', bye: 'Tschüss' },
  },
  default_locale: 'en',
};

describe('rendering in the recipient’s locale', () => {
  it('takes a key fr-CA lacks from fr, and says the message is written in fr-CA', async () => {
    const outcome = await sms(greetings, { name: 'Léa' }, 'fr-CA');
    expect(outcome.message.text).toBe('Allô Léa · Au revoir');
    expect(outcome.locale).toBe('fr-CA');
    expect(outcome.warnings).toEqual([]);
  });

  it('uses the tenant default before the template’s, and warns that the requested locale was not available', async () => {
    const outcome = await sms(greetings, { name: 'Jo' }, 'ja', 'de');
    expect(outcome.message.text).toBe('Hallo Jo · Tschüss');
    expect(outcome.locale).toBe('de');
    expect(outcome.warnings).toEqual([expect.objectContaining({ code: 'locale_fallback' })]);
    expect((await sms(greetings, { name: 'Jo' }, 'ja')).message.text).toBe('Hello Jo · Bye');
  });

  it('keeps right-to-left text exactly as written, around the data and in HTML', async () => {
    const arabic = 'مرحبا {{ name }}، طلبك في الطريق';
    const hebrew = 'שלום {{ name }}, ההזמנה שלך בדרך';
    const content: TemplateContent = {
      sms: { text: '{{ "hi" | t: name: name }}' },
      email: { subject: '{{ "hi" | t: name: name }}', html: '<p dir="auto">{{ "hi" | t: name: name }}</p>' },
      locales: { ar: { hi: arabic }, he: { hi: hebrew } },
      default_locale: 'ar',
    };
    expect((await sms(content, { name: 'ليلى' }, 'ar')).message.text).toBe(arabic.replace('{{ name }}', 'ليلى'));
    expect((await sms(content, { name: 'נועה' }, 'he-IL')).message.text).toBe(hebrew.replace('{{ name }}', 'נועה'));
    const email = await renderTemplate({
      content,
      channel: 'email',
      data: { name: 'ليلى' },
      locale: 'ar',
      sources: {},
    });
    expect(email.message.html).toBe(`<p dir="auto">${arabic.replace('{{ name }}', 'ليلى')}</p>`);
  });
});

describe('missingTranslations', () => {
  it('lists per locale the keys it cannot resolve from itself or its parents', () => {
    expect(missingTranslations(greetings)).toEqual({});
    const gaps = missingTranslations({
      locales: {
        en: { hello: 'Hello', bye: 'Bye', thanks: 'Thanks' },
        fr: { hello: 'Bonjour' },
        'fr-CA': { bye: 'Bye-bye' },
        de: { hello: 'Hallo', bye: 'Tschüss', extra: 'Nur hier' },
      },
    });
    expect(gaps).toEqual({
      en: ['extra'],
      fr: ['bye', 'extra', 'thanks'],
      // `hello` comes from fr, so only what fr lacks too is missing.
      'fr-CA': ['extra', 'thanks'],
      de: ['thanks'],
    });
  });

  it('names the plural forms a locale’s rules need that its translation lacks', () => {
    const gaps = missingTranslations({
      locales: {
        en: { files: { one: 'file', other: 'files' } },
        ru: { files: { one: 'файл', other: 'файла' } },
        ar: { files: { one: 'ملف', two: 'ملفان', other: 'ملف' } },
        'ru-UA': {},
      },
    });
    expect(gaps.en).toBeUndefined();
    expect(gaps.ru).toEqual(['files.few', 'files.many']);
    // ru-UA resolves the key from ru, and needs Russian's forms too.
    expect(gaps['ru-UA']).toEqual(['files.few', 'files.many']);
    expect(gaps.ar).toEqual(['files.zero', 'files.few', 'files.many']);
  });
});
