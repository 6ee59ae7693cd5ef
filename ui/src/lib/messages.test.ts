import { describe, expect, it } from 'vitest';
import {
  auditProblemText,
  errorText,
  failureLabels,
  format,
  importProblemText,
  orcaReason,
  knownErrorCodes,
  messages,
  opActionLabels,
  opKindLabels,
  opStateLabels,
  outcomeLabels,
  probeKindLabels,
  resolutionLabels,
  statusLabels,
} from './messages';
import type { AuditProblem, ProblemKind } from './generated/types';
import { ERROR_CODES } from './generated/types';
import { browserLanguage, dayLabel, initialLanguage, minutesSince } from './format';

const allStatuses = [
  'proposed',
  'pending',
  'booked',
  'arrived',
  'fulfilled',
  'cancelled',
  'noshow',
  'entered-in-error',
  'checked-in',
  'waitlist',
] as const;

describe('messages', () => {
  it('has every message in both languages, none empty', () => {
    const ja = Object.keys(messages.ja).sort();
    expect(Object.keys(messages.en).sort()).toEqual(ja);
    for (const lang of ['ja', 'en'] as const) {
      for (const [key, text] of Object.entries(messages[lang])) {
        expect(text.trim(), `${lang}.${key}`).not.toBe('');
      }
    }
  });

  it('keeps placeholders the same across languages', () => {
    const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(messages.ja) as (keyof typeof messages.ja)[]) {
      expect(holes(messages.en[key]), key).toEqual(holes(messages.ja[key]));
    }
  });

  it('labels every FHIR appointment status', () => {
    for (const s of allStatuses) {
      expect(statusLabels.ja[s]).toBeTruthy();
      expect(statusLabels.en[s]).toBeTruthy();
    }
    expect(statusLabels.ja.cancelled).toBe('キャンセル');
  });

  it('explains the same error codes in both languages and falls back for unknown ones', () => {
    expect(knownErrorCodes('en').sort()).toEqual(knownErrorCodes('ja').sort());
    expect(errorText('ja', 'store.key_missing').action).toContain('そのまま残して');
    expect(errorText('en', 'nope.unknown').title).toMatch(/unexpected/);
  });

  it('says every CSV problem in both languages', () => {
    const all: ProblemKind[] = [
      { kind: 'encoding' },
      { kind: 'too_large' },
      { kind: 'too_many_rows' },
      { kind: 'no_header' },
      { kind: 'missing_column', column: 'time' },
      { kind: 'mapped_column_missing', header: '診察日時' },
      { kind: 'field_twice', field: 'date_time' },
      { kind: 'no_appointments' },
      { kind: 'bad_csv_line' },
      { kind: 'bad_date' },
      { kind: 'bad_time' },
      { kind: 'bad_date_time' },
      { kind: 'bad_end' },
      { kind: 'empty_name' },
      { kind: 'bad_status' },
      { kind: 'duplicate', first_line: 7 },
    ];
    for (const p of all) {
      expect(importProblemText('ja', p)).toMatch(/[ぁ-んァ-ヶ一-龠]/);
      expect(importProblemText('en', p)).toMatch(/^[\x20-\x7e]*[A-Za-z]/);
    }
    expect(importProblemText('ja', { kind: 'duplicate', first_line: 7 })).toContain('7行目');
    expect(importProblemText('ja', { kind: 'missing_column', column: 'time' })).toContain('時刻');
  });

  it("says ORCA's reason in ORCA's words in Japanese and in plain words in English", () => {
    const message =
      'ORCA at orca.lan answered appointlstv2 with Api_Result 12: a doctor code in Tsunagi\'s settings (physicians) does not exist in ORCA (ORCA: ドクターが存在しません)';
    expect(orcaReason('ja', message)).toBe('ORCAの返答: ドクターが存在しません（12）');
    expect(orcaReason('en', message)).toContain('does not exist in ORCA (12)');
    expect(orcaReason('ja', 'cannot connect to orca.lan: refused')).toBeNull();
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(format(messages.ja.dataAsOf, { time: '08:30' })).toBe('08:30 時点のデータ');
    expect(format(messages.en.dataAsOf, { time: '08:30' })).toBe('data as of 08:30');
    expect(format('{a} {b}', { a: 1 })).toBe('1 {b}');
  });
});

describe('format', () => {
  it('writes a clinic day the Japanese and the English way', () => {
    expect(dayLabel('2026-11-25', 3, 'ja')).toBe('11月25日（水）');
    expect(dayLabel('2026-11-25', 3, 'en')).toBe('Wed, Nov 25');
    expect(dayLabel('garbage', 0, 'ja')).toBe('garbage');
  });

  it('starts in English only for an English browser', () => {
    expect(browserLanguage('en-US')).toBe('en');
    expect(browserLanguage('ja')).toBe('ja');
    expect(browserLanguage(undefined)).toBe('ja');
  });

  it('prefers the language the shell injected over the browser guess', () => {
    expect(initialLanguage('ja', 'en-US')).toBe('ja');
    expect(initialLanguage('en', 'ja')).toBe('en');
    expect(initialLanguage(undefined, 'en-US')).toBe('en');
    expect(initialLanguage('<script>', undefined)).toBe('ja');
  });
});

describe('the line banner and diagnosis', () => {
  it('names every probe and every failure in both languages', () => {
    for (const lang of ['ja', 'en'] as const) {
      for (const label of Object.values(probeKindLabels[lang])) expect(label).not.toBe('');
      for (const label of Object.values(failureLabels[lang])) expect(label).not.toBe('');
    }
    expect(Object.keys(failureLabels.ja).sort()).toEqual(Object.keys(failureLabels.en).sort());
  });

  it('counts whole minutes since the outage began, never below zero', () => {
    const since = '2026-11-25T02:14:00.000Z';
    expect(minutesSince(since, Date.parse('2026-11-25T02:14:59.000Z'))).toBe(0);
    expect(minutesSince(since, Date.parse('2026-11-25T02:26:30.000Z'))).toBe(12);
    expect(minutesSince(since, Date.parse('2026-11-25T02:00:00.000Z'))).toBe(0);
    expect(minutesSince('not a time', Date.now())).toBe(0);
  });
});

describe('the call list', () => {
  it('names every call outcome in both languages, as the desk says them', () => {
    expect(Object.keys(outcomeLabels.ja).sort()).toEqual(Object.keys(outcomeLabels.en).sort());
    expect(outcomeLabels.ja.cancelled).toBe('キャンセル');
    expect(outcomeLabels.ja.no_answer).toBe('不在');
    for (const label of Object.values(outcomeLabels.en)) expect(label).not.toBe('');
  });
});

describe('the sync view', () => {
  it('names every op kind, state, action and resolution in both languages', () => {
    for (const labels of [opKindLabels, opStateLabels, opActionLabels, resolutionLabels]) {
      expect(Object.keys(labels.en).sort()).toEqual(Object.keys(labels.ja).sort());
      for (const lang of ['ja', 'en'] as const) {
        for (const label of Object.values(labels[lang])) expect(label).not.toBe('');
      }
    }
    expect(opStateLabels.ja.conflict).toBe('競合');
    expect(opKindLabels.ja.receipt_void).toBe('取消伝票');
    expect(resolutionLabels.ja.discarded).toBe('送信しない（手入力）');
  });
});

describe('the error codes', () => {
  it('explains every code core and the shell send, in both languages, not with the fallback', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(40);
    for (const code of ERROR_CODES) {
      for (const lang of ['ja', 'en'] as const) {
        expect(knownErrorCodes(lang), `${lang} ${code}`).toContain(code);
        const text = errorText(lang, code);
        expect(text.title.trim(), `${lang} ${code}`).not.toBe('');
        expect(text.action.trim(), `${lang} ${code}`).not.toBe('');
        expect(text, `${lang} ${code}`).not.toEqual(errorText(lang, 'internal.ui'));
      }
      expect(errorText('ja', code).title, code).toMatch(/[ぁ-んァ-ヶ一-龠]/);
      expect(errorText('en', code).title, code).toMatch(/^[\x20-\x7e]+$/);
    }
  });

  it('keeps no text for a code nothing sends', () => {
    const sent: readonly string[] = ERROR_CODES;
    for (const lang of ['ja', 'en'] as const) {
      expect(knownErrorCodes(lang).filter((c) => !sent.includes(c)), lang).toEqual([]);
    }
  });

  it('says a refused certificate plainly: not connected, the data on screen still usable', () => {
    const ja = errorText('ja', 'source.certificate');
    expect(ja.title).toBe('サーバの証明書を確認できません');
    expect(ja.action).toBe(
      '接続していません。URL が正しいか確認し、IT担当者に連絡してください。表示中のデータはそのまま使えます。',
    );
    expect(errorText('en', 'source.certificate').action).toMatch(/did not connect/);
  });

  it('points the outbox rejections at the Sync tab, with the same action words as its buttons', () => {
    for (const code of ['outbox.rejected', 'outbox.unknown_kind']) {
      expect(errorText('ja', code).action).toContain(opActionLabels.ja.discard);
      expect(errorText('en', code).action).toContain(opActionLabels.en.discard);
    }
  });
});

describe('the key loss screen', () => {
  it('says the file is kept, never deleted, and asks before starting fresh', () => {
    expect(messages.ja.freshMoved).toContain('削除はしません');
    expect(messages.ja.freshConfirm).toBe('はい、新しく始める');
    expect(messages.ja.freshStart).toBe('新しいデータで始める');
    expect(format(messages.ja.freshKeptAt)).toBe('古いファイルの保管先:');
    expect(messages.ja.freshUnsent).toContain('送信できません');
    expect(messages.en.freshUnsent).toMatch(/cannot be sent unless the key is found/);
  });
});

describe('records and retention', () => {
  it('writes the retention periods with their numbers', () => {
    expect(format(messages.ja.retentionMirror, { n: 7 })).toContain('過去 7 日');
    expect(format(messages.ja.retentionIncidents, { n: 90 })).toBe('障害・訓練の記録: 90 日');
    expect(format(messages.ja.retentionReceipts, { n: 30 })).toBe('領収書: 送信後 30 日');
    expect(format(messages.ja.auditOk, { n: 12 })).toBe('12 件、改ざんなし');
    expect(format(messages.en.auditOk, { n: 12 })).toBe('12 entries, not tampered with');
    for (const key of ['incidents_days', 'receipts_days', 'mirror_days_back', '[retention]']) {
      expect(messages.ja.retentionHint).toContain(key);
      expect(messages.en.retentionHint).toContain(key);
    }
  });

  it('says every audit problem in both languages, with the entry numbers', () => {
    const all: AuditProblem[] = [
      { kind: 'edited', seq: 7 },
      { kind: 'missing', from: 3, to: 5 },
      { kind: 'missing', from: 4, to: 4 },
      { kind: 'out_of_order', seq: 9 },
      { kind: 'tail_missing', last_seq: 4, head_seq: 6 },
      { kind: 'head_mismatch', last_seq: 6 },
    ];
    for (const p of all) {
      expect(auditProblemText('ja', p)).toMatch(/[ぁ-んァ-ヶ一-龠]/);
      expect(auditProblemText('en', p)).toMatch(/^[\x20-\x7e]+$/);
    }
    expect(auditProblemText('ja', { kind: 'edited', seq: 7 })).toContain('#7');
    expect(auditProblemText('ja', { kind: 'missing', from: 3, to: 5 })).toContain('#3〜#5');
    expect(auditProblemText('en', { kind: 'missing', from: 4, to: 4 })).toBe('Entry #4 was deleted.');
    const tail = auditProblemText('en', { kind: 'tail_missing', last_seq: 4, head_seq: 6 });
    expect(tail).toContain('#4');
    expect(tail).toContain('#6');
  });

  it('reads the numbers as the backend sends them (plain JSON numbers)', () => {
    const fromWire = JSON.parse('{"kind":"missing","from":2,"to":2}') as AuditProblem;
    expect(auditProblemText('ja', fromWire)).toBe('記録 #2 が削除されています。');
  });
});
