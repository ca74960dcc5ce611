import { safeError } from '../observability/safe-errors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any activity's own signature passes through
type Activity = (...args: any[]) => Promise<unknown>;

/**
 * The same activities, failing without the values a failed query bound: an activity's failure is kept in
 * its workflow's history and logged by the worker, and a grouped write binds other notifications' rows too.
 */
export function withSafeErrors<T extends Record<string, Activity>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return await activity(...args);
        } catch (error) {
          throw safeError(error);
        }
      },
    ]),
  ) as T;
}
