// Every word on screen, in Japanese (the default) and English. Pure data and functions, so
// the tests can check both languages are complete.
import type { AppointmentStatus, Language } from './generated/types';

const ja = {
  appName: 'つなぎ',
  demo: 'デモ',
  demoHint: '架空のクリニックのデモデータです',
  dataAsOf: '{time} 時点のデータ',
  noDataYet: 'まだデータがありません',
  syncNow: '今すぐ同期',
  syncing: '同期中…',
  settings: '設定',
  close: '閉じる',
  appointmentsOfDay: '{day} の予約',
  count: '{n}件',
  colTime: '時刻',
  colPatient: '患者さん',
  colPhone: '電話',
  colReason: '来院理由',
  colStatus: '状況',
  noPhone: '電話番号なし',
  noPatient: '患者情報なし',
  noTime: '時刻未定',
  emptyDay: 'この日の予約はありません',
  loading: '読み込み中…',
  language: '表示言語',
  autostart: 'パソコンにログインしたら自動で起動する',
  autostartHint: '回線の異常にすぐ気づけるよう、オンをおすすめします。',
  syncFailedBanner: '最新の予約を取得できませんでした。{time} 時点のデータを表示しています。',
  syncFailedNoData: '予約データを取得できませんでした。',
  details: '詳しい内容',
  retry: 'もう一度試す',
  restartAfterFix: '直したあとで、つなぎを終了して起動し直してください。',
  errorCode: 'エラーコード',
  dataFolder: 'データの保存先',
  timeZone: 'タイムゾーン',
  source: '予約データの取得元',
  sourceDemo: 'デモ（架空のクリニック）',
} as const;

export type MessageKey = keyof typeof ja;

const en: Record<MessageKey, string> = {
  appName: 'Tsunagi',
  demo: 'DEMO',
  demoHint: 'Demo data of a fictional clinic',
  dataAsOf: 'data as of {time}',
  noDataYet: 'no data yet',
  syncNow: 'Sync now',
  syncing: 'Syncing…',
  settings: 'Settings',
  close: 'Close',
  appointmentsOfDay: 'Appointments for {day}',
  count: '{n}',
  colTime: 'Time',
  colPatient: 'Patient',
  colPhone: 'Phone',
  colReason: 'Reason',
  colStatus: 'Status',
  noPhone: 'no phone',
  noPatient: 'no patient details',
  noTime: 'no time set',
  emptyDay: 'No appointments on this day',
  loading: 'Loading…',
  language: 'Language',
  autostart: 'Start Tsunagi when I log in',
  autostartHint: 'Recommended, so an outage is noticed right away.',
  syncFailedBanner: 'Could not fetch the latest appointments. Showing data as of {time}.',
  syncFailedNoData: 'Could not fetch appointments.',
  details: 'Details',
  retry: 'Try again',
  restartAfterFix: 'Once it is fixed, quit Tsunagi and start it again.',
  errorCode: 'Error code',
  dataFolder: 'Data folder',
  timeZone: 'Time zone',
  source: 'Appointments come from',
  sourceDemo: 'Demo (fictional clinic)',
};

export const messages: Record<Language, Record<MessageKey, string>> = { ja, en };

export function format(template: string, vars: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

export const statusLabels: Record<Language, Record<AppointmentStatus, string>> = {
  ja: {
    proposed: '仮予約',
    pending: '確認待ち',
    booked: '予約済',
    arrived: '来院済',
    fulfilled: '診察済',
    cancelled: 'キャンセル',
    noshow: '未来院',
    'entered-in-error': '誤登録',
    'checked-in': '受付済',
    waitlist: 'キャンセル待ち',
  },
  en: {
    proposed: 'Proposed',
    pending: 'Pending',
    booked: 'Booked',
    arrived: 'Arrived',
    fulfilled: 'Completed',
    cancelled: 'Cancelled',
    noshow: 'No-show',
    'entered-in-error': 'Entered in error',
    'checked-in': 'Checked in',
    waitlist: 'Waitlist',
  },
};

/** What a person should read for an error code: a title and what to do. */
export interface ErrorText {
  title: string;
  action: string;
}

const errorTexts: Record<Language, Record<string, ErrorText>> = {
  ja: {
    'store.key_missing': {
      title: 'データの鍵が見つかりません',
      action:
        'このパソコンのキーチェーンに、保存データを開く鍵がありません。データファイルは消さずにそのまま残しています。IT担当者に連絡してください。',
    },
    'store.not_decryptable': {
      title: '保存データを開けません',
      action:
        '鍵が一致しないか、ファイルが壊れています。ファイルは消さずにそのまま残しています。IT担当者に連絡してください。',
    },
    'store.locked': {
      title: '保存データが使用中です',
      action: '別のプログラムが書き込み中です。少し待ってから、もう一度お試しください。',
    },
    'store.schema_too_new': {
      title: 'つなぎの更新が必要です',
      action: 'このデータは新しいバージョンのつなぎで作られています。つなぎを更新してください。',
    },
    'config.missing': {
      title: '設定ファイルがありません',
      action: '保存データはありますが、設定ファイル (config.toml) がありません。バックアップから戻すよう、IT担当者に連絡してください。',
    },
    'config.invalid': {
      title: '設定ファイルに誤りがあります',
      action: '設定ファイル (config.toml) の内容を確認するよう、IT担当者に連絡してください。',
    },
    'keychain.unavailable': {
      title: 'キーチェーンを利用できません',
      action:
        'パソコンの資格情報の保管場所（キーチェーン）に接続できません。パソコンを再起動しても直らない場合は、IT担当者に連絡してください。',
    },
    'source.failed': {
      title: '予約データを取得できません',
      action: '少し待ってから「今すぐ同期」を押してください。表示中のデータはそのまま使えます。',
    },
    'autostart.failed': {
      title: '自動起動を切り替えられませんでした',
      action: 'パソコンの設定で、つなぎのログイン時起動を確認してください。',
    },
  },
  en: {
    'store.key_missing': {
      title: 'The data key is missing',
      action:
        "This computer's keychain has no key for the saved data. The data file was left untouched. Please contact your IT helper.",
    },
    'store.not_decryptable': {
      title: 'The saved data cannot be opened',
      action:
        'The key does not match or the file is damaged. The file was left untouched. Please contact your IT helper.',
    },
    'store.locked': {
      title: 'The saved data is in use',
      action: 'Another program is writing to it. Wait a moment and try again.',
    },
    'store.schema_too_new': {
      title: 'Tsunagi needs an update',
      action: 'This data was written by a newer Tsunagi. Please update Tsunagi.',
    },
    'config.missing': {
      title: 'The settings file is missing',
      action:
        'The saved data is there but its settings file (config.toml) is not. Ask your IT helper to restore it from a backup.',
    },
    'config.invalid': {
      title: 'The settings file has an error',
      action: 'Ask your IT helper to check the settings file (config.toml).',
    },
    'keychain.unavailable': {
      title: 'The keychain is not available',
      action:
        "Tsunagi cannot reach this computer's keychain. If restarting the computer does not help, contact your IT helper.",
    },
    'source.failed': {
      title: 'Appointments could not be fetched',
      action: 'Wait a moment and press Sync now. The data on screen can still be used.',
    },
    'autostart.failed': {
      title: 'Start at login could not be changed',
      action: "Check Tsunagi's login item in the computer's settings.",
    },
  },
};

const fallbackError: Record<Language, ErrorText> = {
  ja: {
    title: '予期しないエラーが発生しました',
    action: 'もう一度お試しください。繰り返す場合は、エラーコードをIT担当者に伝えてください。',
  },
  en: {
    title: 'Something unexpected went wrong',
    action: 'Please try again. If it keeps happening, give the error code to your IT helper.',
  },
};

export function errorText(lang: Language, code: string): ErrorText {
  return errorTexts[lang][code] ?? fallbackError[lang];
}

export const knownErrorCodes = (lang: Language): string[] => Object.keys(errorTexts[lang]);
