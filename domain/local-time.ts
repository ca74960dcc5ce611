import { DateTime } from 'luxon';
import type { QuietHours } from './preferences';

/** The instant a wall-clock time (`2026-12-01T09:00`) names in a time zone. */
export function localTimeToInstant(localTime: string, timeZone: string): Date {
  const local = DateTime.fromISO(localTime, { zone: timeZone });
  if (!local.isValid) throw new RangeError(`not a local time in ${timeZone}: ${localTime}`);
  return local.toJSDate();
}

/**
 * When the quiet hours that `at` falls in end, or undefined when `at` is outside them. Windows may span
 * midnight (`22:00`–`07:00`); a window whose start equals its end is empty.
 */
export function quietHoursEnd(at: Date, quietHours: QuietHours, timeZone: string): Date | undefined {
  const now = DateTime.fromJSDate(at, { zone: timeZone });
  const minute = (hhmm: string) => {
    const [h, m] = hhmm.split(':').map(Number);
    return h! * 60 + m!;
  };
  const start = minute(quietHours.start);
  const end = minute(quietHours.end);
  const current = now.hour * 60 + now.minute;
  const inside = start < end ? current >= start && current < end : current >= start || current < end;
  if (start === end || !inside) return undefined;
  // Set as a wall-clock time, so a daylight-saving change that night still ends it at, say, 07:00.
  const endToday = now.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  return (endToday > now ? endToday : endToday.plus({ days: 1 })).toJSDate();
}
