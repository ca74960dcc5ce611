import type { Liquid, Template } from 'liquidjs';
import type { TemplateContent } from './content';
import { compileEmail } from './email';
import { createLiquidEngine } from './liquid';
import { translationTable, type TranslationTable } from './locales';
import { TemplateRenderError } from './problems';

/**
 * One template version made ready to render: its engines (bound to its sources), its translations by
 * canonical locale, and each Liquid string parsed once, on first use. Parsing costs far more than
 * rendering, so a warm send only renders.
 */
export class CompiledTemplate {
  readonly translations: TranslationTable;
  private readonly engines = new Map<boolean, Liquid>();
  private readonly parsed = new Map<string, Template[]>();
  private emailHtml?: Promise<string>;

  constructor(
    readonly content: TemplateContent,
    readonly sources: Readonly<Record<string, string>>,
    compiledEmailHtml?: string,
  ) {
    this.translations = translationTable(content.locales);
    if (compiledEmailHtml !== undefined) this.emailHtml = Promise.resolve(compiledEmailHtml);
  }

  /** The engine for HTML output (escaping) or for plain text. */
  engine(html: boolean): Liquid {
    let engine = this.engines.get(html);
    if (!engine) {
      engine = createLiquidEngine({ sources: this.sources, html });
      this.engines.set(html, engine);
    }
    return engine;
  }

  /**
   * A Liquid string parsed by the engine for its output, kept by the string itself: fields of different
   * channels share names (`text`, `title`) but not their sources.
   */
  parse(source: string, html: boolean): Template[] {
    const key = `${html ? 'html' : 'text'}\u0000${source}`;
    let templates = this.parsed.get(key);
    if (!templates) {
      templates = this.engine(html).parse(source);
      this.parsed.set(key, templates);
    }
    return templates;
  }

  /** The email's HTML before Liquid: the HTML saved with the version, or the MJML compiled now. */
  emailHtmlSource(): Promise<string> {
    this.emailHtml ??= compileEmail(this.content).then(({ html, errors }) => {
      if (html !== undefined) return html;
      const [first] = errors;
      throw new TemplateRenderError(first?.message ?? 'the email has no body', {
        channel: 'email',
        field: first?.field ?? 'html',
        line: first?.line,
      });
    });
    return this.emailHtml;
  }
}

/** Compiled versions by a key the caller gives, least recently used dropped first. */
export class CompiledTemplateCache {
  private readonly entries = new Map<string, CompiledTemplate>();

  constructor(readonly capacity = 1_000) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The compiled version under the key, compiled by `create` on a miss. A key names one content and
   * one set of sources for good (`tenant/key/version` of an immutable version).
   */
  get(key: string, create: () => CompiledTemplate): CompiledTemplate {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // Map order is insertion order: re-inserting marks it most recent.
    } else {
      entry = create();
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, entry);
    return entry;
  }
}
