import { compile as compileHtmlToText } from 'html-to-text';
import { Tokenizer, TypeGuards } from 'liquidjs';
import mjml2html from 'mjml';
import type { TemplateContent } from './content';
import type { TemplateProblem } from './problems';

export interface CompiledEmail {
  /** The email's HTML with its Liquid still in it as text; absent when it could not be built. */
  html?: string;
  errors: TemplateProblem[];
}

/**
 * An email body as HTML, built once when the version is saved: MJML compiled to HTML with its CSS
 * inlined, the Liquid in it left as text for each send to render. HTML content is its own result.
 */
export async function compileEmail(content: TemplateContent): Promise<CompiledEmail> {
  const email = content.email;
  if (!email) return { errors: [] };
  const problem = (field: string, message: string, line?: number): TemplateProblem => ({
    channel: 'email',
    field,
    message,
    ...(line === undefined ? {} : { line }),
  });
  const hasHtml = typeof email.html === 'string';
  const hasMjml = typeof email.mjml === 'string';
  if (hasHtml === hasMjml) return { errors: [problem('html', 'an email needs exactly one of html and mjml')] };
  if (hasHtml) return { html: email.html, errors: [] };

  const source = email.mjml!;
  const include = /<\s*mj-include\b/i.exec(source);
  if (include) {
    const line = source.slice(0, include.index).split('\n').length;
    return { errors: [problem('mjml', 'mj-include is not allowed: name a partial with {% render %} instead', line)] };
  }
  let result;
  try {
    // Soft: MJML's validator does not know Liquid, so its findings are judged below rather than thrown.
    result = await mjml2html(source, { validationLevel: 'soft', ignoreIncludes: true });
  } catch (error) {
    return { errors: [problem('mjml', `MJML could not be compiled: ${(error as Error).message}`)] };
  }
  const errors = result.errors
    .filter((e) => !passedThrough(e.message))
    .map((e) => problem('mjml', e.message.trim(), e.line));
  for (const { text, line } of liquidTags(source)) {
    if (!result.html.includes(text)) {
      errors.push(problem('mjml', `MJML drops ${text} here: put Liquid between sections in <mj-raw>`, line));
    }
  }
  return errors.length ? { errors } : { html: result.html, errors: [] };
}

/**
 * Liquid in a colour or a keyword attribute (`color="{{ brand.color }}"`) is copied into the HTML as
 * it is, to be rendered per send; MJML computes with a size (`width`), so Liquid there is refused.
 */
function passedThrough(message: string): boolean {
  const invalid = /^Attribute [\w-]+ has invalid value: (.*) for type (\w+)/.exec(message);
  return invalid !== null && /\{\{|\{%/.test(invalid[1]!) && ['Color', 'Enum'].includes(invalid[2]!);
}

/** Each Liquid tag and output of a source, as written. */
function liquidTags(source: string): { text: string; line: number }[] {
  let tokens;
  try {
    tokens = new Tokenizer(source).readTopLevelTokens();
  } catch {
    return []; // Unparsable Liquid is reported by the parse check.
  }
  return tokens
    .filter((token) => TypeGuards.isTagToken(token) || TypeGuards.isOutputToken(token))
    .map((token) => ({ text: token.getText(), line: token.getPosition()[0] ?? 1 }));
}

const htmlToText = compileHtmlToText({
  wordwrap: 78,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
  ],
});

/** The plain-text part of an email that has none of its own, read from its rendered HTML. */
export function textFromHtml(html: string): string {
  // Only the body is read: skipping the head's styles saves a third of the parse for MJML output.
  const body = html.search(/<body[\s>]/i);
  // Email layouts nest tables and divs; each would otherwise leave its own blank lines.
  return htmlToText(body > 0 ? html.slice(body) : html)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
