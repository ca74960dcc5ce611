import { ApplicationFailure } from '@temporalio/common';
import { DrizzleQueryError } from 'drizzle-orm';
import { DatabaseError, safeError } from '../../observability/safe-errors';

const driverError = () =>
  Object.assign(new Error('invalid input syntax for type uuid: "ada@example.com"'), {
    code: '22P02',
    severity: 'ERROR',
    detail: 'Key (email)=(ada@example.com) already exists.',
  });

describe('errors made safe to leave Herald', () => {
  it("keep a failed query's statement and the server's words, not a value it bound or quoted", () => {
    const safe = safeError(
      new DrizzleQueryError('select $1::uuid\n  from recipients', ['ada@example.com'], driverError()),
    );
    expect(safe).toBeInstanceOf(DatabaseError);
    expect(safe).toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type uuid: "…"; in query: select $1::uuid from recipients',
    });
    expect(JSON.stringify({ ...safe, stack: (safe as Error).stack })).not.toContain('ada@example.com');
  });

  it('keep the class and fields of an error a failed query caused, and its cause without values', () => {
    const failure = ApplicationFailure.create({
      message: 'could not record',
      type: 'RecordFailed',
      nonRetryable: true,
      cause: new DrizzleQueryError('insert into x values ($1)', ['ada@example.com'], driverError()),
    });
    const safe = safeError(failure) as ApplicationFailure;
    expect(safe).toBeInstanceOf(ApplicationFailure);
    expect(safe).toMatchObject({ message: 'could not record', type: 'RecordFailed', nonRetryable: true });
    expect(safe.cause).toBeInstanceOf(DatabaseError);
    expect(String(safe.cause?.message)).not.toContain('ada@example.com');
  });

  it('leave any other error as it is', () => {
    const error = new Error('provider said no');
    expect(safeError(error)).toBe(error);
    expect(safeError('not an error')).toBe('not an error');
  });
});
