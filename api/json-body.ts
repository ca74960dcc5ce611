import { badRequest, Problem } from './problems';

/** Parses a JSON body, answering an empty or malformed one with a 400 that says which. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('body', 'The JSON body is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest('body', `The body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Whether a JSON text may hold what PostgreSQL cannot keep: a NUL character, or a surrogate (only when
 * it has no partner, which the walk below tells). Only then is the parsed body searched.
 */
export const mayHoldUnstorable = (text: string) => text.includes('\\u0000') || /\\u[dD][89a-fA-F]/.test(text);

/**
 * PostgreSQL keeps no NUL character in text or JSON, and no lone surrogate in JSON (text would quietly
 * get U+FFFD instead). Strings the schemas know refuse NUL as they validate (400); the rest, free-form
 * parts included (metadata, template data, a webhook payload, a translation's key), are refused here,
 * after validation, as a 422 naming where.
 */
export function refuseUnstorable(body: unknown): void {
  const found = unstorableAt(body, '');
  if (!found) return;
  const field = found.field || 'body';
  throw found.nul
    ? new Problem(422, 'NUL character', `${field} must not contain a NUL character`, field)
    : new Problem(
        422,
        'Lone surrogate',
        `${field} is not valid Unicode: it holds half of a surrogate pair; send whole characters`,
        field,
      );
}

const NUL = String.fromCharCode(0);
/** In a Unicode pattern a pair is one character: only a surrogate without its partner matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Where in the body a string or a key holds a NUL character or a lone surrogate, as `recipients[0].email`. */
function unstorableAt(value: unknown, path: string): { field: string; nul: boolean } | undefined {
  const bad = (text: string) =>
    text.includes(NUL) ? { nul: true } : LONE_SURROGATE.test(text) ? { nul: false } : undefined;
  if (typeof value === 'string') {
    const why = bad(value);
    return why && { field: path, ...why };
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorableAt(item, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const name = JSON.stringify(key).slice(1, -1);
    const field = path ? `${path}.${name}` : name;
    const why = bad(key);
    if (why) return { field, ...why };
    const found = unstorableAt(item, field);
    if (found) return found;
  }
  return undefined;
}
