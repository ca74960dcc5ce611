import { fieldOf } from '../../api/problems';

describe('fieldOf', () => {
  const issue = (instancePath: string, params: Record<string, unknown> = {}) => ({
    instancePath,
    keyword: 'x',
    params,
  });
  it('writes array indexes in brackets and nested fields with dots', () => {
    expect(fieldOf(issue('/recipients/0/email'))).toBe('recipients[0].email');
  });
  it('names a missing or unknown property', () => {
    expect(fieldOf(issue('/message', { missingProperty: 'text' }))).toBe('message.text');
    expect(fieldOf(issue('', { additionalProperty: 'colour' }))).toBe('colour');
  });
  it('falls back to the part of the request at fault', () => {
    expect(fieldOf(issue(''), 'querystring')).toBe('querystring');
    expect(fieldOf(issue(''))).toBe('body');
  });
});
