import { badRequest } from './problems';

/** Parses a JSON body, answering an empty or malformed one with a 400 that says which. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('body', 'The JSON body is empty');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw badRequest('body', `The body is not valid JSON: ${(error as Error).message}`);
  }
  // PostgreSQL can keep no NUL character, in text or in JSON: refused here, wherever it hides.
  if (text.includes('\\u0000')) {
    const field = nulAt(body, '');
    if (field !== undefined) throw badRequest(field || 'body', `${field || 'body'} must not contain a NUL character`);
  }
  return body;
}

/** Where in the body a string or a key holds a NUL character, as `recipients[0].email`. */
function nulAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulAt(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const field = path ? `${path}.${key.replace(/\u0000/g, '\\u0000')}` : key.replace(/\u0000/g, '\\u0000');
    if (key.includes('\u0000')) return field;
    const found = nulAt(item, field);
    if (found !== undefined) return found;
  }
  return undefined;
}
