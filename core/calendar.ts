/**
 * Calendar checks of RFC 3339 texts (internal: not part of the public entry). Date.parse
 * rolls an impossible date over (February 30 becomes March 2); these find such texts first.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why a text shaped as an RFC 3339 date and time names no real one (February 30, 24:00);
 * undefined if it does or is not so shaped.
 */
export function impossibleDateTime(text: string): string | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m.slice(1).map(Number);
  if (month < 1 || month > 12) return `there is no month ${m[2]}`;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS[month - 1]!;
  if (day < 1 || day > days) return `${m[1]}-${m[2]} has days 01 to ${days}`;
  if (hour > 23) return 'hours run from 00 to 23 (midnight is 00:00 of the next day)';
  if (minute > 59 || second > 59) return 'minutes and seconds run from 00 to 59';
  return undefined;
}
