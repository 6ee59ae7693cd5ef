// Every word on screen, in Japanese (the default) and English. Pure data and functions, so
// the tests can check both languages are complete.
import type {
  AppointmentStatus,
  AuditProblem,
  CallOutcome,
  ErrorCode,
  Failure,
  Language,
  OpAction,
  OpKind,
  OpState,
  PaymentMethod,
  ProbeKind,
  ProblemKind,
  Field,
  RequiredColumn,
  Resolution,
} from './generated/types';

const ja = {
  tabSync: '同期',
  sendNow: '変更を予約システムへ送る',
  sendingNow: '送信中…',
  exportOutbox: '書き出し (CSV)',
  syncWaitingBecause: '送信を待っています: {reason}',
  syncCsvNote:
    '送信先のシステムがありません（CSV取り込みモード）。変更を書き出して、予約システムに手で入力してください。',
  syncDemoNote: 'デモのクリニックは、デモのデータで記録した変更を受け付けます。',
  syncIncident: '障害 {from} ～ {to}',
  syncNoIncident: '回線正常時の変更',
  syncReconciled: 'すべて送信済み',
  syncReconciling: 'まだ送っていない変更があります',
  syncSentSoFar: 'ここまでの変更は送信済み（障害は継続中）',
  syncEmpty: '送信する変更はありません',
  opAttempt: '{n}回目',
  opServerSaid: 'サーバーの回答: {error}',
  opHttpStatus: '（HTTP {status}）',
  opHeldBy: '#{seq} の解決待ち',
  opTakenFrom: '{desk}から引き継ぎ（その端末が止まっていたため、この端末から送信）',
  opNotSent: '送信なし',
  opResolvedBy: '{what}（{staff}）',
  opNewTime: '→ {time}',
  opMine: 'この端末の変更',
  opTheirs: 'サーバーの現在',
  opServerDeleted: 'サーバーで削除済み',
  tabReports: '記録',
  patientSearch: '患者さん（氏名・カナで検索、または入力）',
  pickedFromToday: '本日の予約から選択',
  receiptIssued: '{number} を発行しました',
  receiptRepeatAsk: '同じ金額・支払方法・患者さんの領収書を発行したばかりです。もう一枚発行しますか？',
  receiptRepeatYes: 'もう一枚発行する',
  arrive: '来院（受付）',
  arrivedAt: '{time} 来院',
  undoRecorded: '「{what}」を記録しました',
  undo: '元に戻す',
  undone: '「{what}」を取り消しました',
  askReplaceCancel: 'この予約はキャンセルとして記録済みです。キャンセルを取り消して「{what}」にしますか？',
  askReplaceArrival: 'この患者さんは来院（受付）済みとして記録されています。受付を取り消して「{what}」にしますか？',
  askReplaceYes: '取り消して記録する',
  askNotToday: 'この予約は {when} です。今日の来院として受付しますか？',
  askNotTodayYes: '受付する',
  askNo: 'やめる',
  rowMovedTo: '→ {when}',
  newDate: '日付',
  newTime: '時刻',
  drillBanner: '訓練中：回線が切れた想定で練習しています。ここでの記録は本番に送られません',
  drillStart: '訓練を開始',
  drillMark: '訓練',
  phoneDial: '電話アプリでかける',
  drillDiagnosisNote: '訓練用の表示です。実際の回線は点検していません。本番では、ここに点検の結果と試すことが出ます。',
  drillEnd: '訓練を終了',
  drillEnded: '訓練を終了しました。記録タブに保存されています',
  drillEndedByOutage:
    '実際の回線障害が起きたため、訓練を終了しました。これからの記録（電話・受付・領収書）は本番です。',
  drillEndedByDayEnd: '訓練は日付が変わったため自動で終了しました。記録タブに保存されています',
  switchAskTitle: 'データの取得元を「{to}」に切り替えますか？',
  onCallAt: '{desk}で通話中',
  otherDesks: '他の端末',
  otherDesksHint: '院内の受付の端末どうしをつなぐと、停電・回線断のあいだも電話・受付・領収書・チェックリストを共有します。この端末の名前：{name}',
  noDesks: 'まだどの端末ともつながっていません。',
  deskConnected: '接続中',
  deskLastSeen: '最後の接続 {at}',
  deskNeverSeen: 'まだ接続していません',
  deskBehind: '{n}件 未受信',
  unpair: '解除',
  unpairAsk: '{desk}との接続を解除しますか？ 解除した端末の記録は、どの端末でも受け付けなくなります。',
  unpairYes: '解除する',
  pairShowTitle: 'この端末のコードを表示',
  pairShow: 'コードを表示',
  pairShowHint: 'もう一方の端末で、このコードとアドレスを入力してください（{minutes}分間有効・1回限り）。',
  thisAddress: 'この端末のアドレス：',
  pairClose: 'コードを閉じる',
  pairJoinTitle: '別の端末のコードを入力',
  pairAddress: 'その端末のアドレス',
  pairCode: 'コード（8桁）',
  pairJoin: 'つなぐ',
  pairedWith: '{desk}とつながりました',
  itSection: 'IT担当者向け',
  itSectionHint: 'データの取得元、保存期間、監査記録、タイムゾーン。受付の操作では変更しないでください。',
  switchWaitingTitle: '送られていない変更が {n} 件あります',
  switchWaitingBody:
    'いまの接続先（{upstream}）で記録した変更が、まだ送られていません。切り替えても変更は消えず、同期タブに残り、接続先をここへ戻すと送られます。',
  switchConfirm: '切り替える',
  switchCancel: 'やめる',
  opWaitsFor: 'この変更は {host} に送られるのを待っています（いまの接続先ではありません）',
  opNoVersions: 'サーバーが版を記録していないため、変更前と同じか確かめられません。内容を確認して選んでください。',
  syncOrcaNote: 'ORCAへ送るのは予約のキャンセルと日時変更だけです。通話の結果・領収書・受付はORCAに置き場所がないため送らず、この一覧とCSVに「送信なし」として残します。',
  opCsvNote: '送信先のシステムがありません。予約システムに手で入力したら「送信しない」を押してください。',
  drillTitle: '訓練モード',
  drillHint:
    '本物の予約データで障害時の流れを練習します。電話の記録や領収書は練習用として別に保存され、送信されません。',
  callScript: '電話の台本',
  callScriptHint: '{clinic}（医院名）・{name}（患者名）・{date}（日付）・{time}（時刻）が自動で入ります',
  save: '保存',
  resetDefault: '元に戻す',
  showScript: '台本・メモ',
  callNote: 'メモ（次に記録する結果に付きます）',
  copy: 'コピー',
  phoneTitle: 'この番号に電話してください',
  copied: 'コピーしました',
  shortcutsHint: '↑↓ 患者を移動　1〜6 結果を記録　A 来院　S 台本　N 未連絡のみ',
  printoutsTitle: '印刷と書き出し',
  printoutsFolder: '保存先フォルダ',
  downtimeSheet: 'ダウンタイム用紙',
  downtimeSheetHint: '毎日 {times} に本日の予約と電話番号を保存します（パソコンが止まっても紙で対応できるように）',
  writeSheetNow: 'フォルダに保存',
  savedTo: '保存しました：{path}',
  print: '印刷',
  printReceipt: '仮領収書',
  enteredInBilling: '入力済',
  markEntered: '入力済にする',
  exportCsv: 'CSVを書き出す',
  voidConfirm: '取り消す',
  back: 'やめる',
  reportsEmpty: 'まだ障害も訓練も記録されていません',
  reportOutage: '障害',
  reportDrill: '訓練',
  reportOngoing: '継続中',
  reportCounts: '電話 {calls}件・領収書 {receipts}件',
  reportVoids: '（取消 {voids}件）',
  reportMinutes: '{m}分',
  view: '表示',
  tabReceipts: '領収書',
  amountYen: '金額（円）',
  method: '支払方法',
  chooseMethod: '支払方法を選んでください（現金・カードなど）',
  memo: 'メモ',
  addReceipt: '仮領収書を発行',
  voidReceipt: '取消',
  voidReason: '取消の理由',
  voided: '取消済',
  issuedAtDesk: '{desk}で発行',
  thisDesk: 'この端末',
  drawers: '端末ごとのレジ',
  drawerCash: '現金 {cash}',
  drawerTotal: '計 {total}',
  todayTotal: '本日の合計',
  voidCount: '取消 {n}件',
  noReceipts: '本日の領収書はまだありません',
  tabSchedule: '予約一覧',
  tabCalls: '電話連絡',
  callProgress: '{done}/{total} 連絡済',
  notReachedOnly: '未連絡のみ',
  includeTomorrowMorning: '明日の午前も表示',
  staffName: '担当者',
  staffUnset: '未選択',
  staffCurrent: '担当: {name}',
  staffChoose: '担当者を選択',
  staffSwitcherTitle: 'いま受付にいる人',
  staffNoNames: 'まだ名前がありません。下に入力して追加してください。',
  staffNewPlaceholder: '新しい名前',
  staffAdd: '追加',
  staffForget: '{name} を一覧から外す',
  staffNameTooLong: '名前は{max}文字までです',
  staffNameControl: '名前に使えない文字が入っています',
  staffHint: 'パスワードはありません。記録に残す名前を選ぶだけです。（Alt+S で開く）',
  keyLossChoose: '次のどちらかを選んでください',
  keyLossItTitle: '1. IT担当者に連絡して、鍵を元に戻してもらう',
  keyLossItText:
    '鍵が戻れば、元のデータがそのまま使えます。戻したあと、つなぎを終了して起動し直してください。',
  freshTitle: '2. 新しいデータで始める',
  freshMoved: '開けないデータファイルは、別のフォルダに移して保管します（削除はしません）。',
  freshUnsent:
    'そのファイルに記録された、まだ送信していない変更（電話の記録・来院・仮領収書など）は、鍵が見つからない限り送信できません。',
  freshRefetch:
    '今日の予約は、予約システムからもう一度取得します（CSV 取り込みの場合は、もう一度取り込んでください）。',
  freshStart: '新しいデータで始める',
  freshConfirmQuestion:
    '本当に新しいデータで始めますか？ 古いファイルは保管されますが、鍵が見つかるまで中身は使えません。',
  freshConfirm: 'はい、新しく始める',
  freshStarting: '準備中…',
  freshDoneTitle: '新しいデータで始める準備ができました',
  freshKeptAt: '古いファイルの保管先:',
  freshOldKey: '合わなかった鍵も、キーチェーンに「{account}」という名前で残しています。',
  freshDoneHint: 'この保管先を IT担当者に伝えてください。鍵が見つかれば、古いデータを戻せます。',
  freshContinue: '続ける',
  recordsTitle: '記録と保存期間',
  retentionMirror: 'ミラー（予約データの控え）: 過去 {n} 日',
  retentionIncidents: '障害・訓練の記録: {n} 日',
  retentionReceipts: '領収書: 送信後 {n} 日',
  retentionHint:
    '保存期間は IT担当者が config.toml の [retention]（incidents_days、receipts_days、mirror_days_back）で変更します。',
  auditVerify: '監査ログを確認',
  auditExport: '監査ログを書き出す',
  auditOk: '{n} 件、改ざんなし',
  auditProblems: '{n} 件を確認し、問題が見つかりました:',
  auditProblemsHint: 'IT担当者に連絡してください。書き出したファイルを渡すと調べやすくなります。',
  auditHead: '最後の記録の指紋:',
  notCalledYet: '未連絡',
  retryDue: 'かけ直す時間です',
  retryAt: '{time} にかけ直す',
  newDateTime: '新しい日時',
  recordOutcome: '記録',
  callListEmpty: 'この時間帯に連絡する予約はありません',
  callAllReached: '{n}人すべてに連絡済みです',
  showEveryone: '全員を表示',
  callDayOver: '本日の連絡は終わりました。明日の午前の予約を表示しています。',
  checklistTitle: '障害時チェックリスト',
  checkedBy: '{time} {staff}',
  lineOffline: '回線断',
  lineDegraded: '回線不安定',
  lineDownFor: '{minutes}分経過',
  lineDownJustNow: '発生直後',
  lineDataAsOf: '予約データは {time} 時点',
  lineNoData: '予約データはまだありません',
  diagnose: '診断',
  firstStep: 'まず',
  moreDetail: '詳しく',
  backupLine: '予備回線で接続中',
  backupLineFrugal: '予備回線（節約中）',
  meteredLineFrugal: '従量制の回線（節約中）',
  frugalBytes: '切り替えてから {amount}',
  frugalSetting: '予備回線・従量制の回線では通信を節約する（確認と更新の間隔を長くします。変更の送信は止めません）',
  bookingStillOpen: '患者さんはまだWeb予約を入れられます',
  bookingShowCard: '止め方を見る',
  bookingShowReopenCard: '再開の手順',
  bookingPausedByHand: 'Web予約は予約サービスで止めてあります',
  bookingSince: '（{since}〜）',
  bookingCardStopTitle: 'Web予約を止める手順',
  bookingCardReopenTitle: 'Web予約を再開する手順',
  bookingCardMissing: '予約サービスでの止め方はまだ登録されていません（院長・管理者が「設定」→「Web予約の止め方」で登録できます）。予約サービスの管理画面で受付を止めてから、下のボタンを押してください。',
  bookingCardAdmin: '管理画面',
  bookingCardOpen: 'ブラウザで開く',
  bookingCardPhoneHint: '回線が切れているときは、スマートフォン（テザリング）で開いてください。',
  bookingStoppedByHand: '止めました',
  bookingReopenedByHand: '再開しました',
  checklistStopBooking: '止める',
  checklistBookingSteps: '止め方を見る',
  checklistReopenBooking: '再開する',
  bookingCardSettings: 'Web予約の止め方',
  bookingCardSettingsHelp: 'つなぎから止められない予約サービス（CSV・デモ・API のない予約システム）を使っているとき、障害時に受付がこの手順を見て止めます。',
  bookingCardVendor: '予約サービス名',
  bookingCardUrl: '管理画面のURL',
  bookingCardStopSteps: '止める手順',
  bookingCardReopenSteps: '再開する手順',
  bookingCardSave: '保存',
  newsNew: '新規',
  newsNewHint: '回線障害のあいだに予約システムへ入った予約です',
  newsChanged: '変更',
  newsChangedHint: '回線障害のあいだに予約システムで日時や状態が変わりました',
  bookingPause: 'Web予約を止める',
  bookingResume: 'Web予約を再開',
  bookingKeep: '止めたままにする',
  bookingKeptClosed: 'Web予約は止めたままにしています',
  bookingPauseWaiting: 'Web予約を止めました・予約システムへはつながりしだい最初に送ります',
  bookingPaused: 'Web予約を停止中',
  bookingDetail: '（{since}〜{until}・{slots}枠）',
  bookingBy: '（{staff}）',
  bookingRemind: '回線は戻りました。Web予約は止めたままです',
  bookingResumeWaiting: 'Web予約を再開しました（まだ予約システムに届いていません）',
  bookingLeft: 'Web予約を再開しました。次の{count}枠は予約システムで変更されていたため、そのままにしました：',
  bookingRefused: '予約システムが閉じなかった枠があります：',
  calledAt: '{desk}で',
  arrivedAtDesk: '{desk}で受付済み',
  bookingRefusedAll: '予約システムがWeb予約の停止を受け付けませんでした。Web予約はまだ開いています（同期タブで再送できます）',
  diagnosisTitle: '回線の診断',
  checkAgain: 'もう一度確認',
  whatWasChecked: '確認した項目',
  whatToTry: '試すこと',
  probeOk: '正常',
  checkedAt: '{time} に確認',
  signalsTitle: 'つなぎが見ていなかった間のお知らせ',
  signalsSeen: '確認しました',
  appName: 'つなぎ',
  demo: 'デモ',
  demoHint: '架空のクリニックのデモデータです',
  dataAsOf: '{time} 時点のデータ',
  noDataYet: 'まだデータがありません',
  syncNow: '最新に更新',
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
  syncFailedNoData: '予約データを取得できませんでした。',
  details: '詳しい内容',
  retry: 'もう一度試す',
  restartAfterFix: '直したあとで、つなぎを終了して起動し直してください。',
  errorCode: 'エラーコード',
  dataFolder: 'データの保存先',
  timeZone: 'タイムゾーン',
  source: '予約データの取得元',
  sourceDemo: 'デモ（架空のクリニック）',
  sourceFhir: 'FHIRサーバ',
  sourceCsv: 'CSVファイルの取り込み',
  fhirUrl: 'サーバのURL',
  fhirAuth: '認証',
  authNone: 'なし',
  authBearer: 'トークン（Bearer）',
  authBasic: 'ユーザー名とパスワード',
  username: 'ユーザー名',
  token: 'トークン',
  password: 'パスワード',
  secretKept: '保存済み（変えるときだけ入力）',
  secretHint: 'トークンやパスワードはこのパソコンのキーチェーンにだけ保存されます。',
  saveAndConnect: '保存して接続を確認',
  connecting: '接続を確認中…',
  connected: '接続できました（{n}件の予約）',
  saved: '保存しました',
  importCsv: 'CSVファイルを取り込む',
  importing: '取り込み中…',
  imported: '{n}件の予約を取り込みました（{from}〜{to}）',
  importedOneDay: '{n}件の予約を取り込みました（{from}）',
  importSwitched: 'これからは CSV の取り込みが予約データの取得元です。',
  importUpstream: 'FHIRサーバの次の同期で、この取り込みは置き換わります。',
  importRejected: 'ファイルに問題があるため、何も取り込んでいません。直してからもう一度取り込んでください。',
  lineN: '{line}行目: ',
  csvHelp: '列: 日付, 時刻, 氏名, フリガナ, 電話番号, 来院理由（UTF-8 または Shift_JIS）',
  importMappingUsed: '列の対応「{name}」で読み取りました。',
  mapTitle: 'このファイルの列を教えてください',
  mapIntro: '初めて見る形式のファイルです。列ごとに、それが何かを右で選んでください。対応は保存され、次からは同じ見出しのファイルをそのまま取り込みます。',
  mapUnused: '（使わない）',
  mapName: 'この対応の名前',
  mapNeeds: 'あと必要な列: {fields}',
  mapOr: 'または',
  mapImport: 'この対応で取り込む',
  mapCancel: 'やめる',
  mapColumn: 'ファイルの列',
  folderRefused: '予約ファイル「{file}」（{time} 保存）を取り込めませんでした。予約データは変わっていません。ファイルを直して保存し直すと、自動で取り込みます。',
  folderMoreProblems: 'ほか {n}件',
  sourceOrca: 'ORCA（日レセ）',
  orcaUrl: 'ORCAのアドレス',
  orcaUrlHint: '院内のORCAは http(s)://サーバ名:8000、WebORCAは末尾に /api を付けます。',
  orcaUser: 'ORCAのユーザID',
  folderInvalid: 'このフォルダは見つからないか、開けません。場所を確かめてください（共有フォルダなら、つながっているかも）。',
  folderFile: '{file}（{time} 保存）より',
  folderTitle: '取り込みフォルダ',
  folderHelp: '予約システムが毎日CSVを書き出すフォルダを指定すると、新しいファイルや更新されたファイルを自動で取り込みます。',
  folderPath: 'フォルダ',
  folderMapping: '列の対応',
  folderByHeader: '見出しで自動判別',
  folderSave: 'このフォルダを監視する',
  folderStop: '監視をやめる',
  folderWatching: '監視中: {path}',
  folderNotWatching: '監視していません',
  folderFhirNote: '取得元がFHIRサーバの間は、フォルダは監視しません。',
  mapSamples: '最初の数行の値',
  mapListSep: '、',
  mapPlus: '＋',
  mapMeaning: 'この列は',
  mapChange: '列の対応を指定して取り込む',
  mapSaved: '列の対応「{name}」を保存しました。次からは同じ見出しのファイルをそのまま取り込みます。',
  syncFailedReason: '最新の予約を取得できませんでした（{reason}）。{time} 時点のデータを表示しています。',
} as const;

export type MessageKey = keyof typeof ja;

const en: Record<MessageKey, string> = {
  tabSync: 'Sync',
  sendNow: 'Send changes to the clinic system',
  sendingNow: 'Sending…',
  exportOutbox: 'Export (CSV)',
  syncWaitingBecause: 'Waiting to send: {reason}',
  syncCsvNote:
    'There is no upstream system to send to (CSV import mode). Export the changes and enter them into the booking system by hand.',
  syncDemoNote: 'The demo clinic accepts the changes made on its own data.',
  syncIncident: 'Outage {from} – {to}',
  syncNoIncident: 'Changes made while the line was up',
  syncReconciled: 'All sent',
  syncReconciling: 'Changes still to send',
  syncSentSoFar: 'Sent so far (the outage goes on)',
  syncEmpty: 'No changes to send',
  opAttempt: 'attempt {n}',
  opServerSaid: 'The server said: {error}',
  opHttpStatus: '(HTTP {status})',
  opHeldBy: 'waiting for #{seq} to be resolved',
  opTakenFrom: 'Taken over from {desk} (it was off, so this desk sends it)',
  opNotSent: 'Not sent',
  opResolvedBy: '{what} ({staff})',
  opNewTime: '→ {time}',
  opMine: "This desk's change",
  opTheirs: 'On the server now',
  opServerDeleted: 'Deleted on the server',
  tabReports: 'Records',
  patientSearch: 'Patient (search by name or kana, or type)',
  pickedFromToday: "From today's appointments",
  receiptIssued: 'Issued {number}',
  receiptRepeatAsk: 'A receipt with the same amount, method and patient was issued a moment ago. Issue another one?',
  receiptRepeatYes: 'Issue another',
  arrive: 'Arrived',
  arrivedAt: 'arrived {time}',
  undoRecorded: 'Recorded “{what}”',
  undo: 'Undo',
  undone: 'Took back “{what}”',
  askReplaceCancel: 'This appointment was recorded as cancelled. Withdraw the cancellation and record “{what}” instead?',
  askReplaceArrival: 'This patient was checked in. Withdraw the check-in and record “{what}” instead?',
  askReplaceYes: 'Withdraw and record',
  askNotToday: 'This appointment is on {when}. Check the patient in for today anyway?',
  askNotTodayYes: 'Check in',
  askNo: 'Cancel',
  rowMovedTo: '→ {when}',
  newDate: 'Date',
  newTime: 'Time',
  drillBanner: 'Drill: practising as if the line were down. Nothing recorded here is sent upstream',
  drillStart: 'Start a drill',
  drillMark: 'DRILL',
  phoneDial: 'Call with the phone app',
  drillDiagnosisNote: 'Practice only: the line was not checked. In a real outage the checks and what to try appear here.',
  drillEnd: 'End the drill',
  drillEnded: 'The drill has ended. Its report is under Records',
  drillEndedByOutage:
    'A real outage started, so the drill ended. From now on, calls, check-ins and receipts are real.',
  drillEndedByDayEnd: 'The drill ended by itself when the day changed. Its report is under Records',
  switchAskTitle: 'Switch where the data comes from to “{to}”?',
  onCallAt: 'On the phone at {desk}',
  otherDesks: 'Other desks',
  otherDesksHint: 'Paired reception PCs share calls, check-ins, receipts and the checklist during an outage. This desk’s name: {name}',
  noDesks: 'Not paired with any desk yet.',
  deskConnected: 'Connected',
  deskLastSeen: 'Last seen {at}',
  deskNeverSeen: 'Not connected yet',
  deskBehind: '{n} records behind',
  unpair: 'Unpair',
  unpairAsk: 'Unpair {desk}? What it records is then refused by every desk.',
  unpairYes: 'Unpair',
  pairShowTitle: 'Show this desk’s code',
  pairShow: 'Show a code',
  pairShowHint: 'Type this code and the address on the other desk (valid {minutes} minutes, once).',
  thisAddress: 'This desk’s address: ',
  pairClose: 'Close the code',
  pairJoinTitle: 'Type another desk’s code',
  pairAddress: 'That desk’s address',
  pairCode: 'Code (8 digits)',
  pairJoin: 'Pair',
  pairedWith: 'Paired with {desk}',
  itSection: 'For the IT helper',
  itSectionHint: 'Data source, retention, audit trail, time zone. Not for the front desk’s everyday use.',
  switchWaitingTitle: '{n} changes have not been sent yet',
  switchWaitingBody:
    'Changes recorded against the current source ({upstream}) have not been sent. Switching keeps them: they stay in the Sync tab and are sent when this source is chosen again.',
  switchConfirm: 'Switch',
  switchCancel: 'Cancel',
  opWaitsFor: 'Waiting to be sent to {host} (not the current source)',
  opNoVersions: "The server keeps no versions, so Tsunagi cannot tell whether the appointment changed there. Check it and choose.",
  syncOrcaNote: 'Only cancellations and new times of appointments go to ORCA. Call outcomes, receipts and check-ins have no place there: they are not sent, and stay in this list and its CSV as "not sent".',
  opCsvNote: 'There is no system to send this to. Once it is entered by hand, press "Don\'t send".',
  drillTitle: 'Drill mode',
  drillHint:
    'Practise the outage routine on the real schedule. Calls and receipts are kept apart as practice and never sent.',
  callScript: 'Call script',
  callScriptHint: '{clinic} (clinic name), {name} (patient), {date} and {time} are filled in',
  save: 'Save',
  resetDefault: 'Reset',
  showScript: 'Script & note',
  callNote: 'Note (goes with the next outcome recorded)',
  copy: 'Copy',
  phoneTitle: 'Call this number',
  copied: 'Copied',
  shortcutsHint: '↑↓ move   1–6 record outcome   A arrived   S script   N not reached only',
  printoutsTitle: 'Printing and export',
  printoutsFolder: 'Folder',
  downtimeSheet: 'Downtime sheet',
  downtimeSheetHint: "Today's schedule with phone numbers is saved daily at {times}, so the desk has paper if the PC fails",
  writeSheetNow: 'Save to folder',
  savedTo: 'Saved: {path}',
  print: 'Print',
  printReceipt: 'Receipt',
  enteredInBilling: 'Entered',
  markEntered: 'Mark entered',
  exportCsv: 'Export CSV',
  voidConfirm: 'Void',
  back: 'Back',
  reportsEmpty: 'No outages or drills recorded yet',
  reportOutage: 'Outage',
  reportDrill: 'Drill',
  reportOngoing: 'ongoing',
  reportCounts: '{calls} calls, {receipts} receipts',
  reportVoids: ' ({voids} voided)',
  reportMinutes: '{m} min',
  view: 'View',
  tabReceipts: 'Receipts',
  amountYen: 'Amount (yen)',
  method: 'Method',
  chooseMethod: 'Choose how the patient paid (cash, card, …)',
  memo: 'Memo',
  addReceipt: 'Issue provisional receipt',
  voidReceipt: 'Void',
  voidReason: 'Reason for voiding',
  voided: 'Voided',
  issuedAtDesk: 'Issued at {desk}',
  thisDesk: 'This desk',
  drawers: 'Each desk’s drawer',
  drawerCash: 'Cash {cash}',
  drawerTotal: 'Total {total}',
  todayTotal: "Today's total",
  voidCount: '{n} voided',
  noReceipts: 'No receipts yet today',
  tabSchedule: 'Appointments',
  tabCalls: 'Calls',
  callProgress: '{done}/{total} reached',
  notReachedOnly: 'Not reached yet',
  includeTomorrowMorning: 'Include tomorrow morning',
  staffName: 'Staff',
  staffUnset: 'not chosen',
  staffCurrent: 'Staff: {name}',
  staffChoose: 'Who is at the desk?',
  staffSwitcherTitle: 'Who is at the desk now',
  staffNoNames: 'No names yet. Type one below to add it.',
  staffNewPlaceholder: 'New name',
  staffAdd: 'Add',
  staffForget: 'Remove {name} from the list',
  staffNameTooLong: 'A name can have at most {max} characters',
  staffNameControl: 'The name holds characters that cannot be used',
  staffHint: 'No passwords: this only picks the name written on the records. (Alt+S opens it)',
  keyLossChoose: 'Choose one of these',
  keyLossItTitle: '1. Ask your IT helper to restore the key',
  keyLossItText:
    'Once the key is back, the old data is there as it was. Then quit Tsunagi and start it again.',
  freshTitle: '2. Start with fresh data',
  freshMoved: 'The data file that cannot be opened is moved to another folder and kept (not deleted).',
  freshUnsent:
    'Changes recorded in it that were not sent yet (calls, arrivals, provisional receipts…) cannot be sent unless the key is found.',
  freshRefetch:
    "Today's appointments are fetched again from the booking system (with CSV imports, import the file again).",
  freshStart: 'Start with fresh data',
  freshConfirmQuestion:
    'Start with fresh data? The old file is kept, but what is in it cannot be used until the key is found.',
  freshConfirm: 'Yes, start fresh',
  freshStarting: 'Preparing…',
  freshDoneTitle: 'Ready to start with fresh data',
  freshKeptAt: 'The old file is kept at:',
  freshOldKey: 'The key that did not fit is kept in the keychain too, as "{account}".',
  freshDoneHint: 'Tell your IT helper where it is kept. If the key turns up, the old data can be brought back.',
  freshContinue: 'Continue',
  recordsTitle: 'Records and retention',
  retentionMirror: 'Mirror (copy of the appointments): the past {n} days',
  retentionIncidents: 'Outage and drill records: {n} days',
  retentionReceipts: 'Receipts: {n} days after sending',
  retentionHint:
    'Your IT helper changes these in config.toml, under [retention] (incidents_days, receipts_days, mirror_days_back).',
  auditVerify: 'Check the audit log',
  auditExport: 'Export the audit log',
  auditOk: '{n} entries, not tampered with',
  auditProblems: 'Checked {n} entries and found problems:',
  auditProblemsHint: 'Contact your IT helper. An exported copy of the log helps them look into it.',
  auditHead: 'Fingerprint of the last entry:',
  notCalledYet: 'Not called',
  retryDue: 'Time to call again',
  retryAt: 'call again at {time}',
  newDateTime: 'New date and time',
  recordOutcome: 'Record',
  callListEmpty: 'Nobody to call in this period',
  callAllReached: 'All {n} have been reached',
  showEveryone: 'Show everyone',
  callDayOver: "Today's calls are over; tomorrow morning's appointments are shown.",
  checklistTitle: 'Outage checklist',
  checkedBy: '{time} {staff}',
  lineOffline: 'Line down',
  lineDegraded: 'Line unreliable',
  lineDownFor: 'for {minutes} min',
  lineDownJustNow: 'just now',
  lineDataAsOf: 'appointments as of {time}',
  lineNoData: 'no appointment data yet',
  diagnose: 'Diagnose',
  firstStep: 'First',
  moreDetail: 'Details',
  backupLine: 'On the backup line',
  backupLineFrugal: 'Backup line (saving data)',
  meteredLineFrugal: 'Metered line (saving data)',
  frugalBytes: '{amount} since the switch',
  frugalSetting: 'Save data on a backup or metered line (checks and refreshes less often; changes are still sent)',
  bookingStillOpen: 'Patients can still book online',
  bookingShowCard: 'How to stop it',
  bookingShowReopenCard: 'How to reopen it',
  bookingPausedByHand: 'Web booking is stopped at the booking service',
  bookingSince: ' (since {since})',
  bookingCardStopTitle: 'Stopping web booking',
  bookingCardReopenTitle: 'Reopening web booking',
  bookingCardMissing: "The steps for the booking service are not written yet (the owner can add them in Settings → Web booking). Stop it in the booking service's admin page, then press the button below.",
  bookingCardAdmin: 'Admin page',
  bookingCardOpen: 'Open in the browser',
  bookingCardPhoneHint: 'With the line down, open it on a phone (tethering).',
  bookingStoppedByHand: 'Stopped',
  bookingReopenedByHand: 'Reopened',
  checklistStopBooking: 'Stop',
  checklistBookingSteps: 'How to stop it',
  checklistReopenBooking: 'Reopen',
  bookingCardSettings: 'Web booking',
  bookingCardSettingsHelp: 'For a booking service Tsunagi cannot stop (CSV, the demo, a booking system with no API): the steps the desk follows during an outage.',
  bookingCardVendor: 'Booking service',
  bookingCardUrl: 'Admin page URL',
  bookingCardStopSteps: 'Steps to stop it',
  bookingCardReopenSteps: 'Steps to reopen it',
  bookingCardSave: 'Save',
  newsNew: 'New',
  newsNewHint: 'Booked in the booking system during the outage',
  newsChanged: 'Changed',
  newsChangedHint: 'Its time or status changed in the booking system during the outage',
  bookingPause: 'Stop web booking',
  bookingResume: 'Reopen web booking',
  bookingKeep: 'Keep it stopped',
  bookingKeptClosed: 'Web booking stays stopped',
  bookingPauseWaiting: 'Web booking stopped; sent to the booking system first, as soon as it can be reached',
  bookingPaused: 'Web booking stopped',
  bookingDetail: ' ({since}–{until}, {slots} slots)',
  bookingBy: ' ({staff})',
  bookingRemind: 'The line is back. Web booking is still stopped',
  bookingResumeWaiting: 'Web booking reopened (not yet at the booking system)',
  bookingLeft: 'Web booking reopened. These {count} slots had changed in the booking system and were left as they are:',
  bookingRefused: 'The booking system did not close some slots:',
  calledAt: 'At {desk}:',
  arrivedAtDesk: 'Checked in at {desk}',
  bookingRefusedAll: 'The booking system refused to stop web booking. It is still open (send it again from the Sync tab)',
  diagnosisTitle: 'Line diagnosis',
  checkAgain: 'Check again',
  whatWasChecked: 'What was checked',
  whatToTry: 'What to try',
  probeOk: 'OK',
  checkedAt: 'checked at {time}',
  signalsTitle: 'While Tsunagi was not watching',
  signalsSeen: 'Got it',
  appName: 'Tsunagi',
  demo: 'DEMO',
  demoHint: 'Demo data of a fictional clinic',
  dataAsOf: 'data as of {time}',
  noDataYet: 'no data yet',
  syncNow: 'Refresh now',
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
  syncFailedNoData: 'Could not fetch appointments.',
  details: 'Details',
  retry: 'Try again',
  restartAfterFix: 'Once it is fixed, quit Tsunagi and start it again.',
  errorCode: 'Error code',
  dataFolder: 'Data folder',
  timeZone: 'Time zone',
  source: 'Appointments come from',
  sourceDemo: 'Demo (fictional clinic)',
  sourceFhir: 'FHIR server',
  sourceCsv: 'CSV file imports',
  fhirUrl: 'Server URL',
  fhirAuth: 'Authentication',
  authNone: 'None',
  authBearer: 'Token (Bearer)',
  authBasic: 'User name and password',
  username: 'User name',
  token: 'Token',
  password: 'Password',
  secretKept: 'Saved (type only to change it)',
  secretHint: "Tokens and passwords are stored only in this computer's keychain.",
  saveAndConnect: 'Save and test the connection',
  connecting: 'Testing the connection…',
  connected: 'Connected ({n} appointments)',
  saved: 'Saved',
  importCsv: 'Import a CSV file',
  importing: 'Importing…',
  imported: 'Imported {n} appointments ({from} to {to})',
  importedOneDay: 'Imported {n} appointments ({from})',
  importSwitched: 'From now on, CSV imports are where appointments come from.',
  importUpstream: "The FHIR server's next sync replaces this import.",
  importRejected: 'The file has problems, so nothing was imported. Fix them and import it again.',
  lineN: 'line {line}: ',
  csvHelp: 'Columns: date, time, name, kana, phone, reason (UTF-8 or Shift_JIS)',
  importMappingUsed: 'Read through the column mapping "{name}".',
  mapTitle: 'Which column is which?',
  mapIntro: 'Tsunagi has not seen a file like this before. For each column, choose on the right what it holds. The mapping is saved: files with the same header are imported as they are from now on.',
  mapUnused: '(not used)',
  mapName: 'Name of this mapping',
  mapNeeds: 'Still needed: {fields}',
  mapOr: 'or',
  mapImport: 'Import with this mapping',
  mapCancel: 'Cancel',
  mapColumn: 'Column in the file',
  folderRefused: 'The appointments file "{file}" (saved {time}) could not be imported. The appointments did not change. Fix the file and save it again: it is imported by itself.',
  folderMoreProblems: 'and {n} more',
  sourceOrca: 'ORCA',
  orcaUrl: 'ORCA address',
  orcaUrlHint: 'ORCA in the clinic: http(s)://server:8000. WebORCA: add /api at the end.',
  orcaUser: 'ORCA user ID',
  folderInvalid: 'This folder cannot be found or opened. Check where it is (for a shared folder, whether it is connected).',
  folderFile: 'from {file} (saved {time})',
  folderTitle: 'Export folder',
  folderHelp: 'Name the folder where the booking system saves its daily CSV export: each new or changed file there is imported by itself.',
  folderPath: 'Folder',
  folderMapping: 'Columns',
  folderByHeader: "By each file's header",
  folderSave: 'Watch this folder',
  folderStop: 'Stop watching',
  folderWatching: 'Watching: {path}',
  folderNotWatching: 'Not watching a folder',
  folderFhirNote: 'While a FHIR server is the source, the folder is not watched.',
  mapSamples: 'Values in the first rows',
  mapListSep: ', ',
  mapPlus: ' + ',
  mapMeaning: 'This column is',
  mapChange: 'Say which column is which, then import',
  mapSaved: 'Saved the column mapping "{name}". Files with the same header are imported as they are from now on.',
  syncFailedReason: 'Could not fetch the latest appointments ({reason}). Showing data as of {time}.',
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

const errorTexts: Record<Language, Record<ErrorCode, ErrorText>> = {
  ja: {
    'print.failed': {
      title: '印刷できませんでした',
      action: 'プリンターの設定を確認してください。印刷画面から PDF として保存することもできます。',
    },
    'clipboard.failed': {
      title: 'コピーできませんでした',
      action: '台本の文章を選択して手でコピーしてください。',
    },
    'dial.failed': {
      title: 'このパソコンには電話をかけるアプリがありません',
      action: '表示されている番号を見て、電話機からおかけください。',
    },
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
    'source.certificate': {
      title: 'サーバの証明書を確認できません',
      action:
        '接続していません。URL が正しいか確認し、IT担当者に連絡してください。表示中のデータはそのまま使えます。',
    },
    'outbox.rejected': {
      title: 'サーバがこの変更を受け付けませんでした',
      action:
        '同期タブでサーバーの回答を確認し、「再送」するか、「送信しない」を選んで予約システムに手で入力してください。',
    },
    'outbox.unknown_kind': {
      title: 'このつなぎでは送信できない種類の変更です',
      action:
        'つなぎを更新してください。急ぐときは、同期タブで「送信しない」を選び、予約システムに手で入力してください。',
    },
    'outbox.unreadable': {
      title: '送信待ちの変更を読み取れません',
      action:
        'データが壊れているか、新しいつなぎで書かれています。変更は消していません。IT担当者に連絡してください（tsunagi-cli doctor）。',
    },
    'outbox.no_place': {
      title: 'ORCAにはこの記録の置き場所がありません',
      action: 'ORCAには送っていません。この一覧とCSVに残るので、必要ならORCAに手で入力してください。',
    },
    'outbox.no_versions': {
      title: 'サーバーの予約と照合できません',
      action: '同期タブで両方の内容を確認し、どちらを採用するか選んでください。',
    },
    'source.changes_waiting': {
      title: '送られていない変更があります',
      action: '切り替えても変更は残り、元の接続先に戻すと送られます。確認して切り替えてください。',
    },
    'source.superseded': {
      title: '更新の途中で変更が送られました',
      action: 'そのまま使えます。次の更新ですべてそろいます。',
    },
    'store.already_running': {
      title: 'つなぎがすでに動いています',
      action: 'このパソコンでは、つなぎは一つだけ動かせます。',
    },
    'store.database': {
      title: '保存データの読み書きでエラーが起きました',
      action:
        'いまの操作は保存されていません。もう一度試し、続くときはエラーコードを IT担当者に伝えてください。それまでの記録は残っています。',
    },
    io: {
      title: 'ファイルを読み書きできませんでした',
      action:
        'ディスクの空き容量と、データフォルダに書き込めるかを確認してください。続くときは IT担当者に連絡してください。',
    },
    'import.rows': {
      title: 'CSV に直すところがあります',
      action: '表示された行を直して、もう一度取り込んでください。直すまで、何も取り込んでいません。',
    },
    'outbox.conflict': {
      title: 'この予約は予約システム側でも変更されていました',
      action: '同期タブで両方の内容を見比べて、どちらを残すか選んでください。',
    },
    'internal.stopped': {
      title: 'バックグラウンドの処理が止まりました',
      action: 'つなぎを終了して、もう一度起動してください。記録済みのデータは消えていません。',
    },
    'input.invalid': {
      title: '入力内容を使えません',
      action: '入力を直して、もう一度お試しください。',
    },
    'call.contradicts_cancel': {
      title: 'この予約はキャンセルとして記録済みです',
      action: 'キャンセルを取り消してよいか確かめてから、もう一度記録してください。',
    },
    'call.contradicts_arrival': {
      title: 'この患者さんは来院（受付）済みです',
      action: '受付を取り消してよいか確かめてから、もう一度記録してください。',
    },
    'call.already_sent': {
      title: 'この変更はもう予約システムに送られています',
      action: '取り消すには、予約システムで直接変更してください。',
    },
    'call.taken_over': {
      title: 'この変更は、ほかの端末が引き継いで予約システムに送っています',
      action: 'この端末と連絡が取れない間に引き継がれました。取り消すには、予約システムで直接変更してください。',
    },
    'call.needs_decision': {
      title: 'この変更は同期タブで判断を待っています',
      action: '同期タブで、どちらの内容を残すか選んでください。',
    },
    'call.already_withdrawn': {
      title: 'この記録はすでに取り消されています',
      action: '画面は最新の状態です。そのまま続けてください。',
    },
    'call.appointment_cancelled': {
      title: 'この予約はキャンセルされています',
      action: '来院される場合は、予約を取り直してから受付してください。',
    },
    'call.not_today': {
      title: 'この予約は今日ではありません',
      action: '日付を確かめてから受付してください。',
    },
    'call.reschedule_unreadable': {
      title: '新しい日時を読み取れません',
      action: '日付と時刻を選び直してください（例: 2026-12-01 10:30）。',
    },
    'call.reschedule_past': {
      title: '新しい日時が過去になっています',
      action: 'これから先の日付と時刻を選んでください。',
    },
    'call.reschedule_too_far': {
      title: '新しい日時が1年以上先です',
      action: '年を確かめて、1年以内の日時を選んでください。',
    },
    'booking.no_api': {
      title: 'この取得元ではWeb予約を止められません',
      action: 'CSVやデモでは、予約サービスの管理画面で受付を止めてください。',
    },
    'booking.already_paused': {
      title: 'Web予約はすでに止めています',
      action: '再開するときは「Web予約を再開」を押してください。',
    },
    'booking.not_paused': {
      title: 'Web予約は止めていません',
      action: '止めるときは「Web予約を止める」を押してください。',
    },
    'booking.until_invalid': {
      title: '再開する時刻が読めないか、もう過ぎています',
      action: '今日のこれからの時刻を 12:30 のように入れてください。',
    },
    'booking.in_drill': {
      title: '訓練中は本物のWeb予約を止めません',
      action: '手順の確認だけにして、訓練を終えてから本番で使ってください。',
    },
    'booking.has_api': {
      title: 'この取得元はつなぎからWeb予約を止めます',
      action: '「Web予約を止める」を押してください。',
    },
    'peers.code_wrong': {
      title: 'ペアリングのコードが違います',
      action: 'このコードは使えなくなりました。相手の端末で新しいコードを表示して、もう一度入力してください。',
    },
    'peers.code_expired': {
      title: 'ペアリングのコードの有効期限が切れました',
      action: '5分以内に入力されませんでした。新しいコードを表示してください。',
    },
    'peers.code_invalid': {
      title: 'ペアリングのコードは8桁の数字です',
      action: '相手の端末に表示された8桁をそのまま入力してください。',
    },
    'peers.unreachable': {
      title: '相手の端末につながりません',
      action: '同じ院内ネットワークにあるか、相手の端末でつなぎが動いているか、IPアドレスが正しいかを確かめてください。',
    },
    'peers.protocol': {
      title: '相手の端末の応答を理解できません',
      action: '両方の端末のつなぎを同じ版に更新してください。',
    },
    'peers.not_paired': {
      title: 'その端末とはペアリングしていません',
      action: '「他の端末」の一覧で端末の名前を確かめてください。',
    },
    'peers.revoked': {
      title: 'その端末はペアリングを解除された端末です',
      action: 'その端末で「最初からやり直す」（tsunagi-cli start-fresh）を行い、新しい端末としてペアリングしてください。',
    },
    'peers.listen': {
      title: '他の端末からの接続を待てません',
      action: 'ポートが他のソフトに使われているか、ファイアウォールで止められています。IT担当に連絡してください。',
    },
    'peers.setup': {
      title: 'この端末の鍵を作れません',
      action: 'つなぎを再起動してください。直らなければIT担当に連絡してください。',
    },
    'booking.card_invalid': {
      title: 'Web予約の止め方を保存できません',
      action: '管理画面のURLは https:// で始まる形で、各欄は2000文字以内にしてください。',
    },
    'booking.open_failed': {
      title: '管理画面を開けませんでした',
      action: 'URLをコピーして、ブラウザやスマートフォンで開いてください。',
    },
    'source.not_configured': {
      title: '取得元の設定が不完全です',
      action: '設定で、FHIRサーバのURLと認証情報を確認してください。',
    },
    'source.unreachable': {
      title: 'サーバに接続できません',
      action: '回線かサーバのアドレスに問題があります。表示中のデータはそのまま使えます。',
    },
    'source.timeout': {
      title: 'サーバが応答しません',
      action: 'しばらくすると自動でもう一度試します。表示中のデータはそのまま使えます。',
    },
    'source.auth': {
      title: '認証エラー',
      action:
        'サーバがつなぎの認証情報を受け付けませんでした。設定のトークンまたはパスワードを確認してください（IT担当者）。',
    },
    'source.server': {
      title: 'サーバでエラーが発生しました',
      action: 'サーバ側の問題です。しばらくすると自動でもう一度試します。',
    },
    'source.rejected': {
      title: 'サーバが要求を受け付けませんでした',
      action: 'サーバのURLが正しいか確認してください（IT担当者）。',
    },
    'source.not_fhir': {
      title: '予約システムではないページが返ってきました',
      action:
        'Wi-Fiのログイン画面やプロキシが間に入っている可能性があります。ブラウザでログインを済ませてから「最新に更新」を押してください。',
    },
    'source.invalid': {
      title: 'サーバの応答を読み取れません',
      action:
        '応答が途中で切れたか、形式が違います。表示中のデータはそのまま使えます。続くようならIT担当者に連絡してください。',
    },
    'source.too_large': {
      title: 'サーバの応答が大きすぎます',
      action: '通常ありえない大きさの応答です。IT担当者に連絡してください。',
    },
    'source.orca_result': {
      title: 'ORCAが問い合わせを断りました',
      action:
        'ORCAの職員設定やドクターコードを確かめてから「最新に更新」を押してください。それまで予約データは変わりません。',
    },
    'receipt.amount_empty': {
      title: '金額を入力してください',
      action: '入力を直して、もう一度お試しください。',
    },
    'receipt.amount_not_a_number': {
      title: '金額は数字で入力してください',
      action: '入力を直して、もう一度お試しください。',
    },
    'receipt.amount_zero': {
      title: '0円の領収書は発行できません',
      action: '入力を直して、もう一度お試しください。',
    },
    'receipt.amount_negative': {
      title: 'マイナスの金額は入力できません（取消を使ってください）',
      action: '入力を直して、もう一度お試しください。',
    },
    'receipt.amount_too_large': {
      title: '金額が大きすぎます（1,000万円まで）',
      action: '入力を直して、もう一度お試しください。',
    },
    'receipt.already_voided': {
      title: 'この領収書はすでに取消済みです',
      action: '入力を直して、もう一度お試しください。',
    },
    'receipt.looks_repeated': {
      title: '同じ内容の領収書を発行したばかりです',
      action: '二重発行でないか確かめてから、もう一度発行してください。',
    },
    'receipt.reason_missing': {
      title: '取消の理由を入力してください',
      action: '入力を直して、もう一度お試しください。',
    },
    'receipt.not_found': {
      title: 'その番号の領収書はありません',
      action: '番号を確かめてください（訓練中は訓練の領収書だけが対象です）。',
    },
    'receipt.other_desk': {
      title: 'この領収書は別の端末で発行されました',
      action: '取消や入力済みの記録は、発行した端末（一覧に表示の端末名）で行ってください。',
    },
    'receipt.void_of_void': {
      title: '取消を取り消すことはできません',
      action: '必要なら、あらためて領収書を発行してください。',
    },
    'import.unusable': {
      title: 'このファイルは取り込めません',
      action: 'CSV（UTF-8 または Shift_JIS）で保存し直してください。',
    },
    'autostart.failed': {
      title: '自動起動を切り替えられませんでした',
      action: 'パソコンの設定で、つなぎのログイン時起動を確認してください。',
    },
  },
  en: {
    'print.failed': {
      title: 'Could not print',
      action: 'Check the printer settings. The print dialog can also save a PDF.',
    },
    'clipboard.failed': {
      title: 'Could not copy',
      action: 'Select the script text and copy it by hand.',
    },
    'dial.failed': {
      title: 'No phone app on this computer took the number',
      action: 'Dial the number shown from a phone.',
    },
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
    'source.certificate': {
      title: "The server's certificate cannot be verified",
      action:
        'Tsunagi did not connect. Check that the URL is right and contact your IT helper. The data on screen can still be used.',
    },
    'outbox.rejected': {
      title: 'The server refused this change',
      action:
        'Read what the server said in the Sync tab, then send it again, or choose "Don\'t send" and enter it into the booking system by hand.',
    },
    'outbox.unknown_kind': {
      title: 'This Tsunagi cannot send this kind of change',
      action:
        'Update Tsunagi. If it cannot wait, choose "Don\'t send" in the Sync tab and enter it into the booking system by hand.',
    },
    'outbox.unreadable': {
      title: 'A waiting change cannot be read',
      action:
        'The data is damaged or was written by a newer Tsunagi. Nothing was deleted. Call the IT helper (tsunagi-cli doctor).',
    },
    'outbox.no_place': {
      title: 'ORCA has no place for this record',
      action: 'It was not sent to ORCA. It stays in this list and its CSV; enter it in ORCA by hand if needed.',
    },
    'outbox.no_versions': {
      title: "Cannot compare with the server's appointment",
      action: 'In the Sync tab, look at both sides and choose which one stands.',
    },
    'source.changes_waiting': {
      title: 'Some changes have not been sent yet',
      action: 'Switching keeps them; they are sent when the current source is chosen again. Confirm to switch.',
    },
    'source.superseded': {
      title: 'A change was sent during the refresh',
      action: 'Nothing to do: the next refresh brings both.',
    },
    'store.already_running': {
      title: 'Tsunagi is already running',
      action: 'Only one Tsunagi runs on this computer at a time.',
    },
    'store.database': {
      title: 'The saved data could not be read or written',
      action:
        'This last step was not saved. Try again; if it keeps happening, give the error code to your IT helper. Everything recorded before is kept.',
    },
    io: {
      title: 'A file could not be read or written',
      action:
        'Check that the disk has free space and that the data folder can be written to. If it keeps happening, contact your IT helper.',
    },
    'import.rows': {
      title: 'Some rows of the CSV need fixing',
      action: 'Fix the rows shown and import the file again. Nothing was imported until then.',
    },
    'outbox.conflict': {
      title: 'This appointment was also changed in the booking system',
      action: 'Compare both in the Sync tab and choose which to keep.',
    },
    'internal.stopped': {
      title: 'A background task stopped',
      action: 'Quit Tsunagi and start it again. Nothing recorded was lost.',
    },
    'input.invalid': {
      title: 'The entry cannot be used',
      action: 'Correct the entry and try again.',
    },
    'call.contradicts_cancel': {
      title: 'This appointment was recorded as cancelled',
      action: 'Make sure the cancellation should be withdrawn, then record again.',
    },
    'call.contradicts_arrival': {
      title: 'This patient was already checked in',
      action: 'Make sure the check-in should be withdrawn, then record again.',
    },
    'call.already_sent': {
      title: 'This change has already reached the clinic system',
      action: 'To take it back, change it in the clinic system directly.',
    },
    'call.taken_over': {
      title: 'Another desk took this change over and is sending it to the clinic system',
      action: 'It was taken over while this desk could not be reached. To take it back, change it in the clinic system directly.',
    },
    'call.needs_decision': {
      title: 'This change waits for a decision in Sync',
      action: 'Open the Sync tab and choose which version to keep.',
    },
    'call.already_withdrawn': {
      title: 'This was already taken back',
      action: 'The screen is up to date; carry on.',
    },
    'call.appointment_cancelled': {
      title: 'This appointment is cancelled',
      action: 'If the patient is coming, book them again before checking them in.',
    },
    'call.not_today': {
      title: 'This appointment is not today',
      action: 'Check the date before checking the patient in.',
    },
    'call.reschedule_unreadable': {
      title: 'The new date and time cannot be read',
      action: 'Pick the date and the time again (for example 2026-12-01 10:30).',
    },
    'call.reschedule_past': {
      title: 'The new date and time is in the past',
      action: 'Pick a date and time from now on.',
    },
    'call.reschedule_too_far': {
      title: 'The new date and time is more than a year ahead',
      action: 'Check the year and pick a time within a year.',
    },
    'booking.no_api': {
      title: 'This source cannot stop web booking',
      action: "With CSV or the demo, stop it in the booking service's own admin page.",
    },
    'booking.already_paused': {
      title: 'Web booking is already stopped',
      action: 'Press "Reopen web booking" to open it again.',
    },
    'booking.not_paused': {
      title: 'Web booking is not stopped',
      action: 'Press "Stop web booking" to stop it.',
    },
    'booking.until_invalid': {
      title: 'The end time cannot be read or has passed',
      action: 'Type a time later today, like 12:30.',
    },
    'booking.in_drill': {
      title: 'A drill does not stop real web booking',
      action: 'Practise the step only; use it for real after the drill.',
    },
    'booking.has_api': {
      title: 'This source stops web booking from Tsunagi',
      action: 'Press "Stop web booking".',
    },
    'peers.code_wrong': {
      title: 'The pairing code does not match',
      action: 'That code is void now. Show a new code on the other desk and type it again.',
    },
    'peers.code_expired': {
      title: 'The pairing code has expired',
      action: 'Nobody typed it within 5 minutes. Show a new code.',
    },
    'peers.code_invalid': {
      title: 'A pairing code is 8 digits',
      action: 'Type the 8 digits the other desk shows.',
    },
    'peers.unreachable': {
      title: 'The other desk cannot be reached',
      action: 'Check it is on the clinic network, Tsunagi runs there, and the IP address is right.',
    },
    'peers.protocol': {
      title: 'The other desk answered something Tsunagi does not understand',
      action: 'Update Tsunagi on both desks to the same version.',
    },
    'peers.not_paired': {
      title: 'That desk is not paired with this one',
      action: 'Check the name in the list of other desks.',
    },
    'peers.revoked': {
      title: 'That desk was unpaired from the clinic',
      action: 'Start it fresh (tsunagi-cli start-fresh) and pair it as a new desk.',
    },
    'peers.listen': {
      title: 'Other desks cannot connect to this one',
      action: 'Another program uses the port, or a firewall blocks it. Ask your IT helper.',
    },
    'peers.setup': {
      title: "This desk's key cannot be made",
      action: 'Restart Tsunagi. If that does not help, ask your IT helper.',
    },
    'booking.card_invalid': {
      title: 'The web booking steps cannot be saved',
      action: 'Write the admin page as https://…, and keep each field under 2000 characters.',
    },
    'booking.open_failed': {
      title: 'The admin page could not be opened',
      action: 'Copy the address and open it in a browser or on a phone.',
    },
    'source.not_configured': {
      title: 'The source is not fully set up',
      action: "Check the FHIR server's URL and credentials in the settings.",
    },
    'source.unreachable': {
      title: 'Cannot connect to the server',
      action: "The line or the server's address is at fault. The data on screen can still be used.",
    },
    'source.timeout': {
      title: 'The server does not answer',
      action: 'Tsunagi will try again by itself shortly. The data on screen can still be used.',
    },
    'source.auth': {
      title: 'Authentication error',
      action:
        "The server refused Tsunagi's credentials. Check the token or password in the settings (IT helper).",
    },
    'source.server': {
      title: 'The server reported an error',
      action: 'A problem on the server side. Tsunagi will try again by itself shortly.',
    },
    'source.rejected': {
      title: 'The server refused the request',
      action: "Check the server's URL (IT helper).",
    },
    'source.not_fhir': {
      title: 'A page other than the appointment system answered',
      action:
        'A Wi-Fi login page or a proxy may be in the way. Log in with a browser, then press Sync now.',
    },
    'source.invalid': {
      title: "The server's answer cannot be read",
      action:
        'It was cut off or is not in the expected format. The data on screen can still be used. If it keeps happening, contact your IT helper.',
    },
    'source.too_large': {
      title: "The server's answer is too large",
      action: 'An answer this large is not normal. Contact your IT helper.',
    },
    'source.orca_result': {
      title: 'ORCA refused the request',
      action:
        'Check the ORCA user and the doctor codes, then press Sync now. The appointments do not change until then.',
    },
    'receipt.amount_empty': {
      title: 'Enter an amount',
      action: 'Correct the entry and try again.',
    },
    'receipt.amount_not_a_number': {
      title: 'The amount must be a number of yen',
      action: 'Correct the entry and try again.',
    },
    'receipt.amount_zero': {
      title: 'A receipt cannot be for 0 yen',
      action: 'Correct the entry and try again.',
    },
    'receipt.amount_negative': {
      title: 'Amounts cannot be negative (void the receipt instead)',
      action: 'Correct the entry and try again.',
    },
    'receipt.amount_too_large': {
      title: 'The amount is too large (up to 10,000,000 yen)',
      action: 'Correct the entry and try again.',
    },
    'receipt.already_voided': {
      title: 'This receipt is already voided',
      action: 'Correct the entry and try again.',
    },
    'receipt.looks_repeated': {
      title: 'An identical receipt was issued a moment ago',
      action: 'Make sure it is not issued twice, then issue it again.',
    },
    'receipt.reason_missing': {
      title: 'Enter a reason for voiding',
      action: 'Correct the entry and try again.',
    },
    'receipt.not_found': {
      title: 'There is no receipt with that number',
      action: 'Check the number (during a drill only drill receipts count).',
    },
    'receipt.other_desk': {
      title: 'This receipt was issued at another desk',
      action: 'Void it, or mark it entered, at the desk that issued it (named in the list).',
    },
    'receipt.void_of_void': {
      title: 'A void cannot be voided',
      action: 'Issue a new receipt instead, if needed.',
    },
    'import.unusable': {
      title: 'This file cannot be imported',
      action: 'Save it again as CSV (UTF-8 or Shift_JIS).',
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

/** The text for a code core or the shell sent; anything else (a code only the window makes,
 *  `internal.ui`, or one an older build stored) gets the general text. */
export function errorText(lang: Language, code: string): ErrorText {
  const texts: Partial<Record<string, ErrorText>> = errorTexts[lang];
  return texts[code] ?? fallbackError[lang];
}

export const knownErrorCodes = (lang: Language): string[] => Object.keys(errorTexts[lang]);

const fieldLabels: Record<Language, Record<Field, string>> = {
  ja: {
    id: '予約番号',
    date: '日付',
    time: '時刻',
    date_time: '日付と時刻',
    end: '終了時刻',
    name: '氏名',
    kana: 'フリガナ',
    phone: '電話番号',
    reason: '来院理由',
    status: '状態',
  },
  en: {
    id: 'booking number',
    date: 'date',
    time: 'time',
    date_time: 'date and time',
    end: 'end time',
    name: 'name',
    kana: 'kana',
    phone: 'phone',
    reason: 'reason',
    status: 'status',
  },
};

/** What a CSV column holds, in words. */
export function fieldLabel(lang: Language, field: Field): string {
  return fieldLabels[lang][field];
}

/** ORCA's reason for refusing a request (`source.orca_result`), from the error's message:
 *  ORCA's own words in Japanese, Tsunagi's plain words in English, with the code. `null`
 *  when the message is not one (another error). */
export function orcaReason(lang: Language, message: string): string | null {
  const m = /Api_Result (\S+): (.*) \(ORCA: (.*)\)$/.exec(message);
  if (!m) return null;
  const [, code, words, orca] = m;
  return lang === 'ja' && orca ? `ORCAの返答: ${orca}（${code}）` : `ORCA: ${words} (${code})`;
}

/** A CSV import problem in words; the switch fails to compile when a kind is added. */
export function importProblemText(lang: Language, problem: ProblemKind): string {
  const ja = lang === 'ja';
  const column = (c: RequiredColumn) =>
    ja ? { date: '日付', time: '時刻', name: '氏名' }[c] : { date: 'date', time: 'time', name: 'name' }[c];
  switch (problem.kind) {
    case 'encoding':
      return ja
        ? '文字コードが UTF-8 でも Shift_JIS でもありません。表計算ソフトから「CSV（UTF-8）」で保存し直してください。'
        : 'The text is neither UTF-8 nor Shift_JIS. Save it again from the spreadsheet as CSV (UTF-8).';
    case 'too_large':
      return ja ? 'ファイルが大きすぎます（10MBまで）。' : 'The file is too large (10 MB at most).';
    case 'too_many_rows':
      return ja ? '行が多すぎます（20,000行まで）。' : 'Too many rows (20,000 at most).';
    case 'no_header':
      return ja ? '1行目が見出し（列の名前）になっていません。' : 'The first line is not a header with column names.';
    case 'missing_column':
      return ja
        ? `見出しに「${column(problem.column)}」の列がありません。`
        : `The header has no "${column(problem.column)}" column.`;
    case 'mapped_column_missing':
      return ja
        ? `見出しに、列の対応が使う「${problem.header}」の列がありません。`
        : `The header has no "${problem.header}" column, which the column mapping uses.`;
    case 'field_twice':
      return ja
        ? `「${fieldLabel(lang, problem.field)}」が2つの列に割り当てられています。`
        : `Two columns are marked "${fieldLabel(lang, problem.field)}".`;
    case 'no_appointments':
      return ja ? '予約が1件も入っていません。' : 'The file holds no appointments.';
    case 'bad_csv_line':
      return ja ? 'CSVとして読めない行です（引用符 " が閉じていない？）。' : 'Not a valid CSV line (an unclosed quote?).';
    case 'bad_date':
      return ja ? '日付が読めません（例: 2026/11/25）。' : 'The date cannot be read (e.g. 2026-11-25).';
    case 'bad_time':
      return ja ? '時刻が読めません（例: 9:30）。' : 'The time cannot be read (e.g. 09:30).';
    case 'bad_date_time':
      return ja
        ? '日時が読めません（例: 2026/11/25 9:30）。'
        : 'The date and time cannot be read (e.g. 2026-11-25 09:30).';
    case 'bad_end':
      return ja ? '終了時刻が読めません（例: 9:45）。' : 'The end time cannot be read (e.g. 09:45).';
    case 'empty_name':
      return ja ? '氏名が空です。' : 'The name is empty.';
    case 'bad_status':
      return ja
        ? '状態は「予約」「キャンセル」「来院」「受付」のいずれかにしてください。'
        : 'The status must be one of 予約, キャンセル, 来院, 受付 (or a FHIR code).';
    case 'duplicate':
      return ja
        ? `${problem.first_line}行目と同じ予約です。`
        : `The same appointment as on line ${problem.first_line}.`;
    default: {
      const unknown: never = problem;
      return String(unknown);
    }
  }
}

/** A problem the audit check found, in words; the switch fails to compile when a kind is added. */
export function auditProblemText(lang: Language, problem: AuditProblem): string {
  const ja = lang === 'ja';
  switch (problem.kind) {
    case 'edited':
      return ja
        ? `記録 #${problem.seq} が書き換えられています（内容が指紋と一致しません）。`
        : `Entry #${problem.seq} was altered (its contents no longer match its fingerprint).`;
    case 'missing':
      if (String(problem.from) === String(problem.to)) {
        return ja ? `記録 #${problem.from} が削除されています。` : `Entry #${problem.from} was deleted.`;
      }
      return ja
        ? `記録 #${problem.from}〜#${problem.to} が削除されています。`
        : `Entries #${problem.from} to #${problem.to} were deleted.`;
    case 'out_of_order':
      return ja
        ? `記録 #${problem.seq} が前の記録とつながっていません（並べ替えか差し替え）。`
        : `Entry #${problem.seq} does not follow the one before it (reordered or replaced).`;
    case 'tail_missing':
      return ja
        ? `記録 #${problem.last_seq} より後ろが削除されています（#${problem.head_seq} まであったはずです）。`
        : `Entries after #${problem.last_seq} were deleted (the log had reached #${problem.head_seq}).`;
    case 'head_mismatch':
      return ja
        ? `最後の記録 #${problem.last_seq} が、保存された終わりの印と一致しません（末尾が変えられています）。`
        : `The last entry, #${problem.last_seq}, does not match the saved end marker (the end was changed).`;
    case 'export_row_missing':
      return ja
        ? `以前に書き出した記録 #${problem.seq} が、いまの記録にありません。`
        : `Entry #${problem.seq} of the earlier export is no longer in the log.`;
    case 'export_row_changed':
      return ja
        ? `以前に書き出した記録 #${problem.seq} が、その後に書き換えられています。`
        : `Entry #${problem.seq} of the earlier export has been changed since.`;
    case 'export_invalid':
      return ja
        ? `書き出したファイルが #${problem.seq} でつじつまが合いません（後から編集されたファイルは証明になりません）。`
        : `The export does not hold together at #${problem.seq} (an edited file proves nothing).`;
    default: {
      const unknown: never = problem;
      return String(unknown);
    }
  }
}

export const probeKindLabels: Record<Language, Record<ProbeKind, string>> = {
  ja: {
    link: 'ネットワーク接続（このパソコン）',
    gateway: 'ルーター',
    dns: '名前解決（DNS）',
    endpoint: 'インターネット',
    upstream: '予約システム',
  },
  en: {
    link: 'Network connection (this computer)',
    gateway: 'Router',
    dns: 'Name resolution (DNS)',
    endpoint: 'Internet',
    upstream: 'Booking system',
  },
};

export const failureLabels: Record<Language, Record<Failure, string>> = {
  ja: {
    timeout: '応答なし',
    refused: '接続を拒否',
    unreachable: '経路なし',
    name_not_resolved: '名前解決できない',
    wrong_content: '別の内容が返った（ログイン画面など）',
    status: 'エラー応答',
    tls: '証明書・暗号化の失敗',
    no_link: '接続されていない',
    other: '失敗',
  },
  en: {
    timeout: 'no answer',
    refused: 'refused',
    unreachable: 'no route',
    name_not_resolved: 'name not resolved',
    wrong_content: 'something else answered (login page?)',
    status: 'error answer',
    tls: 'certificate or encryption failed',
    no_link: 'not connected',
    other: 'failed',
  },
};

export const outcomeLabels: Record<Language, Record<CallOutcome, string>> = {
  ja: {
    cancelled: 'キャンセル',
    rescheduled: '日時変更',
    coming: '来院予定',
    no_answer: '不在',
    left_message: '留守電',
    wrong_number: '番号違い',
  },
  en: {
    cancelled: 'Cancelled',
    rescheduled: 'Rescheduled',
    coming: 'Coming anyway',
    no_answer: 'No answer',
    left_message: 'Left a message',
    wrong_number: 'Wrong number',
  },
};

export const methodLabels: Record<Language, Record<PaymentMethod, string>> = {
  ja: { cash: '現金', card: 'カード', qr: 'QR決済', deferred: '後日精算' },
  en: { cash: 'Cash', card: 'Card', qr: 'QR payment', deferred: 'Pay later' },
};

export const opKindLabels: Record<Language, Record<OpKind, string>> = {
  ja: {
    appointment_cancel: '予約の取消',
    appointment_reschedule: '予約の変更',
    appointment_arrival: '来院',
    call_outcome: '電話連絡',
    receipt: '仮領収書',
    receipt_void: '取消伝票',
    booking_pause: 'Web予約の停止',
    booking_resume: 'Web予約の再開',
  },
  en: {
    appointment_cancel: 'Cancellation',
    appointment_reschedule: 'Reschedule',
    appointment_arrival: 'Arrival',
    call_outcome: 'Phone call',
    receipt: 'Provisional receipt',
    receipt_void: 'Void slip',
    booking_pause: 'Web booking stopped',
    booking_resume: 'Web booking reopened',
  },
};

export const opStateLabels: Record<Language, Record<OpState, string>> = {
  ja: { pending: '送信待ち', sending: '送信中', done: '送信済み', conflict: '競合', rejected: '却下' },
  en: { pending: 'Waiting', sending: 'Sending', done: 'Sent', conflict: 'Conflict', rejected: 'Rejected' },
};

export const opActionLabels: Record<Language, Record<OpAction, string>> = {
  ja: {
    keep_mine: '自分の変更を採用',
    take_server: 'サーバーを採用',
    retry: '再送',
    discard: '送信しない',
    withdraw: '取り消す（送らない）',
  },
  en: {
    keep_mine: 'Keep mine',
    take_server: "Take the server's",
    retry: 'Send again',
    discard: "Don't send",
    withdraw: 'Take back (not sent)',
  },
};


export const resolutionLabels: Record<Language, Record<Resolution, string>> = {
  ja: {
    kept_mine: '自分の変更を採用',
    took_server: 'サーバーを採用',
    discarded: '送信しない（手入力）',
    withdrawn: '取り消し（送信前）',
    kept_here: 'ORCAに置き場所なし（この一覧とCSVに記録）',
  },
  en: {
    kept_mine: 'Kept mine',
    took_server: "Took the server's",
    discarded: 'Not sent (entered by hand)',
    withdrawn: 'Taken back before sending',
    kept_here: 'No place for it in ORCA (kept in this list and its CSV)',
  },
};
