// Presentation helpers that need no clock and no time zone: the backend already converted
// every time to the clinic's wall clock.
import type { Language } from './generated/types';

const weekdaysJa = ['日', '月', '火', '水', '木', '金', '土'];
const weekdaysEn = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const monthsEn = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2026-11-25` + weekday 3 → `11月25日（水）` / `Wed, Nov 25`. */
export function dayLabel(date: string, weekday: number, lang: Language): string {
  const [, m, d] = date.split('-').map(Number);
  if (!m || !d) return date;
  if (lang === 'ja') return `${m}月${d}日（${weekdaysJa[weekday] ?? ''}）`;
  return `${weekdaysEn[weekday] ?? ''}, ${monthsEn[m - 1] ?? ''} ${d}`;
}

/** The language a fresh window uses before the backend has answered. */
export function browserLanguage(tag: string | undefined): Language {
  return tag?.toLowerCase().startsWith('en') ? 'en' : 'ja';
}

/** The shell names the language when it creates the window; a browser guess otherwise. */
export function initialLanguage(injected: unknown, browserTag: string | undefined): Language {
  return injected === 'ja' || injected === 'en' ? injected : browserLanguage(browserTag);
}

/** Whole minutes from an RFC 3339 time to `nowMs` (the caller's clock), never negative. */
export function minutesSince(since: string, nowMs: number): number {
  const start = Date.parse(since);
  if (Number.isNaN(start)) return 0;
  return Math.max(0, Math.floor((nowMs - start) / 60_000));
}

/** Bytes as a person reads them: `850 KB`, `1.2 MB` (1 KB = 1000 bytes, as data plans count). */
export function formatBytes(bytes: number): string {
  if (bytes === 0) return '0 KB';
  if (bytes < 1_000_000) return `${Math.max(1, Math.round(bytes / 1000))} KB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}
