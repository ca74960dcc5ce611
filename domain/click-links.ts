/** Links in a message's text: http(s) URLs up to whitespace, a closing bracket or quote, or Slack's `|label`. */
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`)\]|]+/g;
/**
 * The `href` of links people follow (`<a>`, `<area>`), quoted either way: not a stylesheet's `<link href>`,
 * which mail clients fetch on their own and would count as clicks.
 */
const HREF = /(<(?:a|area)\b[^>]*?\shref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;
/** The character references an attribute's URL may hold. */
const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' };
/** Punctuation that ends a sentence rather than the URL. */
const TRAILING = /[.,;:!?]+$/;

/** The tracked URL for an original, or undefined to leave it as it is. */
export type LinkWrapper = (url: string) => string | undefined;

export function wrapTextLinks(text: string, wrap: LinkWrapper): string {
  return text.replace(TEXT_URL, (match) => {
    const trailing = TRAILING.exec(match)?.[0] ?? '';
    const url = match.slice(0, match.length - trailing.length);
    return (wrap(url) ?? url) + trailing;
  });
}

export function wrapHtmlLinks(html: string, wrap: LinkWrapper): string {
  return html.replace(HREF, (match, attribute: string, quote: string, escaped: string) => {
    const wrapped = wrap(unescapeAttribute(escaped));
    return wrapped === undefined ? match : `${attribute}${quote}${escapeAttribute(wrapped)}${quote}`;
  });
}

function unescapeAttribute(value: string): string {
  return value.replace(
    /&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi,
    (entity, decimal?: string, hex?: string, name?: string) =>
      decimal
        ? String.fromCodePoint(Number(decimal))
        : hex
          ? String.fromCodePoint(parseInt(hex, 16))
          : (ENTITIES[name!.toLowerCase()] ?? entity),
  );
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
