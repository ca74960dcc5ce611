import { mayHoldUnstorable, refuseUnstorable } from '../../api/json-body';
import type { Problem } from '../../api/problems';

const refusal = (text: string) => {
  if (!mayHoldUnstorable(text)) return undefined;
  try {
    refuseUnstorable(JSON.parse(text));
  } catch (error) {
    return { status: (error as Problem).status, field: (error as Problem).field, title: (error as Problem).title };
  }
  return undefined;
};

describe('a JSON body with a NUL character in a part no schema checks', () => {
  it('is refused with a 422 naming where the NUL is, in a string or a key, however deep', () => {
    expect(refusal('{"metadata":{"a":"b\\u0000c"}}')).toMatchObject({ status: 422, field: 'metadata.a' });
    expect(refusal('{"recipients":[{"id":"x"},{"email":"\\u0000"}]}')).toMatchObject({
      status: 422,
      field: 'recipients[1].email',
    });
    expect(refusal('{"locales":{"en":{"k\\u0000":"v"}}}')).toMatchObject({ status: 422, field: 'locales.en.k\\u0000' });
    expect(refusal('"\\u0000"')).toMatchObject({ status: 422, field: 'body', title: 'NUL character' });
  });

  it('is not confused with an escaped backslash followed by "u0000", which is text', () => {
    expect(refusal('{"text":"C:\\\\u0000"}')).toBeUndefined();
  });
});

describe('a JSON body with half a surrogate pair', () => {
  it('is refused with a 422 naming where, in a string or a key', () => {
    expect(refusal('{"feeds":[{"name":"a","categories":["\\ud800"]}]}')).toEqual({
      status: 422,
      field: 'feeds[0].categories[0]',
      title: 'Lone surrogate',
    });
    expect(refusal('{"metadata":{"x\\udc00":1}}')).toMatchObject({ status: 422, field: 'metadata.x\\udc00' });
    expect(refusal('{"text":"ok \\ud83d"}')).toMatchObject({ field: 'text' });
  });

  it('lets a whole pair through: it is one character', () => {
    expect(refusal('{"text":"\\ud83d\\ude00 and 😀"}')).toBeUndefined();
  });
});
