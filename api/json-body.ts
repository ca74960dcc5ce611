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

/** Whether a JSON text may hold a NUL character: only then is the parsed body searched for one. */
export const mayHoldNul = (text: string) => text.includes('\\u0000');

/**
 * PostgreSQL can keep no NUL character, in text or in JSON. Strings the schemas know refuse it as they
 * validate (400); free-form parts (metadata, template data, a webhook payload, a translation's key) are
 * refused here, after validation, as a 422 naming where.
 */
export function refuseNul(body: unknown): void {
  const field = nulAt(body, '');
  if (field !== undefined)
    throw new Problem(422, 'NUL character', `${field || 'body'} must not contain a NUL character`, field || 'body');
}

const NUL = String.fromCharCode(0);

/** Where in the body a string or a key holds a NUL character, as `recipients[0].email`. */
function nulAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulAt(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const name = key.split(NUL).join('\\u0000');
    const field = path ? `${path}.${name}` : name;
    if (key.includes(NUL)) return field;
    const found = nulAt(item, field);
    if (found !== undefined) return found;
  }
  return undefined;
}
