/** Links in a message's text: http(s) URLs up to whitespace or a closing bracket or quote. */
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`)\]]+/g;
/** `href` attributes with an http(s) URL, quoted either way. */
const HREF = /(\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;
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
  return value.replace(/&amp;/g, '&').replace(/&#x?0*26;/gi, '&');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;');
}
