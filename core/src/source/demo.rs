//! The built-in demo clinic: a realistic day at a Japanese internal-medicine clinic,
//! generated for whatever "today" is at the clinic, so a new install shows something
//! meaningful before any upstream is configured. Everything here is fictional.

use chrono::{Datelike, NaiveDate, NaiveTime};

use super::PullRequest;
use crate::model::{Appointment, AppointmentStatus, MirrorSnapshot, Patient, SourceKind};
use crate::phone::Phone;

pub const CLINIC_NAME: &str = "さくら通り内科クリニック";
pub const SOURCE_KEY: &str = "demo";

#[derive(Debug, Clone, Copy, Default)]
pub struct DemoSource;

struct DemoPatient {
    name: &'static str,
    kana: Option<&'static str>,
    phones: &'static [&'static str],
    reason: &'static str,
}

const fn p(
    name: &'static str,
    kana: &'static str,
    phones: &'static [&'static str],
    reason: &'static str,
) -> DemoPatient {
    DemoPatient {
        name,
        kana: Some(kana),
        phones,
        reason,
    }
}

/// The practice's patients. Edge cases on purpose: two phones (渡辺), no phone (斎藤),
/// no reading (Smith), full-width digits (山口), a non-BMP kanji (𠮷田), a variant kanji
/// (髙橋), half-width kana (齋藤), a landline-only elderly patient or two.
const PATIENTS: &[DemoPatient] = &[
    p(
        "佐藤 健一",
        "サトウ ケンイチ",
        &["090-3481-2271"],
        "高血圧 定期受診",
    ),
    p("鈴木 美咲", "スズキ ミサキ", &["080-5127-9034"], "発熱・咳"),
    p(
        "高橋 大輔",
        "タカハシ ダイスケ",
        &["070-2218-6650"],
        "健康診断",
    ),
    p(
        "田中 陽子",
        "タナカ ヨウコ",
        &["03-3721-4408"],
        "糖尿病 定期受診",
    ),
    p(
        "伊藤 翔太",
        "イトウ ショウタ",
        &["090-7765-1029"],
        "インフルエンザ予防接種",
    ),
    p(
        "渡辺 由美子",
        "ワタナベ ユミコ",
        &["03-5432-1187", "090-4412-8873"],
        "血液検査の結果説明",
    ),
    p(
        "山本 隆",
        "ヤマモト タカシ",
        &["03-3398-2761"],
        "脂質異常症 定期受診",
    ),
    p(
        "中村 さくら",
        "ナカムラ サクラ",
        &["080-6634-2290"],
        "小児 予防接種",
    ),
    p("小林 誠", "コバヤシ マコト", &["090-1187-4463"], "腰痛"),
    p("加藤 恵", "カトウ メグミ", &["070-4459-3318"], "花粉症"),
    p("吉田 拓也", "ヨシダ タクヤ", &["080-2245-7761"], "胃の不調"),
    p(
        "山田 花子",
        "ヤマダ ハナコ",
        &["03-3917-5502"],
        "骨粗しょう症 定期受診",
    ),
    p(
        "佐々木 悠人",
        "ササキ ユウト",
        &["090-6621-0398"],
        "のどの痛み",
    ),
    p(
        "山口 和子",
        "ヤマグチ カズコ",
        &["０３－３８１２－４４０７"],
        "高血圧 定期受診",
    ),
    p(
        "松本 浩二",
        "マツモト コウジ",
        &["090-8874-1156"],
        "痛風 定期受診",
    ),
    p("井上 真由美", "イノウエ マユミ", &["080-3309-6647"], "頭痛"),
    p("木村 蓮", "キムラ レン", &["070-6612-8804"], "発熱"),
    p(
        "林 千尋",
        "ハヤシ チヒロ",
        &["090-2290-5571"],
        "皮膚のかゆみ",
    ),
    p(
        "斎藤 正雄",
        "サイトウ マサオ",
        &[],
        "処方のみ（ご家族来院）",
    ),
    p("清水 結衣", "シミズ ユイ", &["080-7718-2236"], "初診"),
    p(
        "山崎 剛",
        "ヤマザキ ツヨシ",
        &["090-5543-9917"],
        "睡眠の相談",
    ),
    p(
        "森 早苗",
        "モリ サナエ",
        &["03-3706-1198"],
        "甲状腺 定期受診",
    ),
    p("池田 光", "イケダ ヒカル", &["070-3385-4420"], "咳が続く"),
    p(
        "橋本 直樹",
        "ハシモト ナオキ",
        &["090-4478-3362"],
        "健康診断の再検査",
    ),
    p(
        "阿部 智子",
        "アベ トモコ",
        &["080-9906-1173"],
        "貧血 定期受診",
    ),
    p("石川 湊", "イシカワ ミナト", &["090-3357-8819"], "腹痛"),
    p(
        "前田 久美子",
        "マエダ クミコ",
        &["03-3611-7724"],
        "喘息 定期受診",
    ),
    p(
        "藤田 勇気",
        "フジタ ユウキ",
        &["080-1164-5582"],
        "けがの処置",
    ),
    p("後藤 明美", "ゴトウ アケミ", &["090-9912-3345"], "めまい"),
    p("岡田 修", "オカダ オサム", &["03-3864-2219"], "心電図検査"),
    p(
        "長谷川 葵",
        "ハセガワ アオイ",
        &["070-8832-1147"],
        "じんましん",
    ),
    p(
        "村上 康弘",
        "ムラカミ ヤスヒロ",
        &["090-6648-2205"],
        "禁煙外来",
    ),
    p(
        "髙橋 秀樹",
        "タカハシ ヒデキ",
        &["080-4471-9963"],
        "高血圧 定期受診",
    ),
    p(
        "𠮷田 稔",
        "ヨシダ ミノル",
        &["090-7731-4480"],
        "肺炎球菌ワクチン",
    ),
    p("齋藤 恵子", "ｻｲﾄｳ ｹｲｺ", &["03-3583-6672"], "再診"),
    DemoPatient {
        name: "Emily Smith",
        kana: None,
        phones: &["+1 415-555-0142", "080-2217-6684"],
        reason: "Travel vaccination / 渡航ワクチン",
    },
];

/// Slots of a clinic day: 09:00–12:20 every 10 minutes, 14:30–18:15 every 15. One slot
/// per patient, so every edge case above is on every day's list.
fn slots() -> Vec<(NaiveTime, u32)> {
    let hm =
        |minutes: u32| NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).expect("valid time");
    let morning = (0..20).map(|i| (hm(9 * 60 + i * 10), 10));
    let afternoon = (0..16).map(|i| (hm(14 * 60 + 30 + i * 15), 15));
    let out: Vec<_> = morning.chain(afternoon).collect();
    debug_assert_eq!(out.len(), PATIENTS.len());
    out
}

impl DemoSource {
    fn day(&self, request: &PullRequest, date: NaiveDate, out: &mut Vec<Appointment>) {
        let slots = slots();
        // Each day sees the practice in a different order.
        let shift = (date.num_days_from_ce().unsigned_abs() as usize * 7) % PATIENTS.len();
        for (i, (time, minutes)) in slots.iter().enumerate() {
            let patient = (i + shift) % PATIENTS.len();
            // The first patient of today is already at the desk; one patient of every day
            // has cancelled.
            let status = match i {
                0 if date == request.first_day => AppointmentStatus::Arrived,
                6 => AppointmentStatus::Cancelled,
                _ => AppointmentStatus::Booked,
            };
            let start = request.calendar.at(date, *time);
            out.push(Appointment {
                source_id: format!("demo-{}-{:02}", date.format("%Y%m%d"), i + 1),
                source_version: Some("1".to_owned()),
                start: Some(start),
                end: Some(start + chrono::Duration::minutes(i64::from(*minutes))),
                status,
                reason: Some(PATIENTS[patient].reason.to_owned()),
                patient_id: Some(patient_id(patient)),
            });
        }
    }
}

fn patient_id(index: usize) -> String {
    format!("demo-patient-{:02}", index + 1)
}

impl DemoSource {
    /// The demo never fails: it is generated, not fetched.
    pub fn fetch(&self, request: &PullRequest) -> MirrorSnapshot {
        let mut appointments = Vec::new();
        for d in 0..request.days {
            if let Some(date) = request
                .first_day
                .checked_add_days(chrono::Days::new(d.into()))
            {
                self.day(request, date, &mut appointments);
            }
        }
        let patients = PATIENTS
            .iter()
            .enumerate()
            .map(|(i, d)| Patient {
                source_id: patient_id(i),
                source_version: Some("1".to_owned()),
                name: d.name.to_owned(),
                kana: d.kana.map(str::to_owned),
                phones: d.phones.iter().map(|raw| Phone::parse(raw)).collect(),
            })
            .collect();
        MirrorSnapshot {
            source_key: SOURCE_KEY.to_owned(),
            source_kind: SourceKind::Demo,
            patients,
            appointments,
        }
    }
}
