import { mayHoldNul, refuseNul } from '../../api/json-body';
import type { Problem } from '../../api/problems';

const refusal = (text: string) => {
  if (!mayHoldNul(text)) return undefined;
  try {
    refuseNul(JSON.parse(text));
  } catch (error) {
    return { status: (error as Problem).status, field: (error as Problem).field };
  }
  return undefined;
};

describe('a JSON body with a NUL character in a part no schema checks', () => {
  it('is refused with a 422 naming where the NUL is, in a string or a key, however deep', () => {
    expect(refusal('{"metadata":{"a":"b\\u0000c"}}')).toEqual({ status: 422, field: 'metadata.a' });
    expect(refusal('{"recipients":[{"id":"x"},{"email":"\\u0000"}]}')).toEqual({
      status: 422,
      field: 'recipients[1].email',
    });
    expect(refusal('{"locales":{"en":{"k\\u0000":"v"}}}')).toEqual({ status: 422, field: 'locales.en.k\\u0000' });
    expect(refusal('"\\u0000"')).toEqual({ status: 422, field: 'body' });
  });

  it('is not confused with an escaped backslash followed by "u0000", which is text', () => {
    expect(refusal('{"text":"C:\\\\u0000"}')).toBeUndefined();
  });
});
