import { badRequest } from './problems';

/** Parses a JSON body, answering an empty or malformed one with a 400 that says which. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('body', 'The JSON body is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest('body', `The body is not valid JSON: ${(error as Error).message}`);
  }
}
