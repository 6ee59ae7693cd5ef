//! What to tell the desk about the line: a headline naming what failed and the steps to
//! try, in the desk's language. The tray, the notification, the window's banner and
//! diagnosis panel and the CLI all read the same words.

use serde::Serialize;
use ts_rs::TS;

use super::{Cause, NetState};
use crate::config::Language;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Advice {
    pub headline: String,
    /// What to try, most likely fix first.
    pub steps: Vec<String>,
}

/// The monitor's status as the window shows it, with its advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LineView {
    pub status: super::MonitorStatus,
    pub advice: Advice,
    /// Set on the event that announces a transition (state before it).
    pub changed_from: Option<NetState>,
    /// When the last round finished, `HH:MM:SS` on the clinic's clock.
    pub checked_at_label: Option<String>,
    /// A drill's practice outage, not the line (the window marks it 訓練).
    pub drill: bool,
}

impl LineView {
    pub fn new(
        status: super::MonitorStatus,
        changed_from: Option<NetState>,
        config: &crate::config::Config,
    ) -> LineView {
        let calendar = config.calendar();
        let checked_at_label = status
            .checked_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                calendar
                    .local(t.with_timezone(&chrono::Utc))
                    .format("%H:%M:%S")
                    .to_string()
            });
        LineView {
            advice: advice(status.state, status.cause, config.language),
            status,
            changed_from,
            checked_at_label,
            drill: false,
        }
    }

    /// The outage a drill practises: the banner and diagnosis of the most common real one
    /// (the line beyond the router is down), from the drill's start, marked as a drill. No
    /// check was run for it, so none is listed.
    pub fn drill(
        started: chrono::DateTime<chrono::Utc>,
        config: &crate::config::Config,
    ) -> LineView {
        let status = super::MonitorStatus {
            state: NetState::Offline,
            cause: Some(Cause::Internet),
            since: Some(crate::monitor::millis_ts(started)),
            ..super::MonitorStatus::starting()
        };
        LineView {
            drill: true,
            ..LineView::new(status, None, config)
        }
    }
}

pub fn advice(state: NetState, cause: Option<Cause>, language: Language) -> Advice {
    let (headline, steps): (&str, &[&str]) = match (language, state, cause) {
        (Language::Ja, NetState::Online, _) => ("回線は正常です", &[]),
        (Language::En, NetState::Online, _) => ("The line is up", &[]),

        (Language::Ja, _, Some(Cause::LocalLink)) => (
            "このパソコンがネットワークにつながっていません",
            &[
                "LANケーブルが抜けていないか、Wi-Fiがオンになっているか確認してください",
                "ルーターの電源ランプを確認してください",
                "直らなければスマートフォンのテザリングにつないでください",
            ],
        ),
        (Language::En, _, Some(Cause::LocalLink)) => (
            "This computer is not connected to a network",
            &[
                "Check the network cable is plugged in, or that Wi-Fi is on",
                "Check the router's power light",
                "If that does not help, connect to a phone's hotspot (tethering)",
            ],
        ),
        (Language::Ja, _, Some(Cause::Gateway)) => (
            "ルーターが応答しません",
            &[
                "ルーターの電源を切り、30秒待ってから入れ直してください",
                "予備回線（モバイルルーター）に切り替えてください",
                "スマートフォンのテザリングにつないでください",
            ],
        ),
        (Language::En, _, Some(Cause::Gateway)) => (
            "The router does not answer",
            &[
                "Turn the router off, wait 30 seconds, and turn it on again",
                "Switch to the backup line (mobile router)",
                "Connect to a phone's hotspot (tethering)",
            ],
        ),
        (Language::Ja, NetState::Offline, Some(Cause::Dns)) => (
            "名前解決（DNS）ができず、インターネットに出られません",
            &[
                "ルーターの電源を入れ直してください",
                "予備回線かスマートフォンのテザリングに切り替えてください",
            ],
        ),
        (Language::En, NetState::Offline, Some(Cause::Dns)) => (
            "Names cannot be resolved (DNS), so nothing on the internet can be reached",
            &[
                "Restart the router",
                "Switch to the backup line or a phone's hotspot",
            ],
        ),
        (Language::Ja, _, Some(Cause::Dns)) => (
            "名前解決（DNS）が不安定です",
            &["続く場合はルーターの電源を入れ直してください"],
        ),
        (Language::En, _, Some(Cause::Dns)) => (
            "Name resolution (DNS) is failing",
            &["If it goes on, restart the router"],
        ),
        (Language::Ja, _, Some(Cause::Captive)) => (
            "ログイン画面などが割り込み、インターネットに出られません",
            &[
                "ブラウザを開き、Wi-Fiのログイン画面が出ていないか確認してください",
                "予備回線かスマートフォンのテザリングに切り替えてください",
            ],
        ),
        (Language::En, _, Some(Cause::Captive)) => (
            "A login page or filter answers instead of the internet",
            &[
                "Open a browser and look for a Wi-Fi login page",
                "Switch to the backup line or a phone's hotspot",
            ],
        ),
        (Language::Ja, _, Some(Cause::Upstream)) => (
            "インターネットは使えますが、予約システムが応答しません",
            &[
                "予約システムの障害情報を確認してください",
                "復旧まではこの画面の予約一覧と電話で対応してください",
            ],
        ),
        (Language::En, _, Some(Cause::Upstream)) => (
            "The internet works, but the clinic's booking system does not answer",
            &[
                "Check the booking system's status page",
                "Until it returns, work from this window's list and the phone",
            ],
        ),
        (Language::Ja, _, Some(Cause::Loss)) => (
            "回線が不安定です（通信が途切れがちです）",
            &[
                "ルーターの電源を入れ直してください",
                "改善しなければ予備回線に切り替えてください",
            ],
        ),
        (Language::En, _, Some(Cause::Loss)) => (
            "The line is unstable (many packets are lost)",
            &[
                "Restart the router",
                "If it does not improve, switch to the backup line",
            ],
        ),
        (Language::Ja, NetState::Degraded, _) => (
            "インターネット接続が不安定です",
            &["ルーターの電源を入れ直してください"],
        ),
        (Language::En, NetState::Degraded, _) => (
            "The internet connection is unreliable",
            &["Restart the router"],
        ),
        (Language::Ja, NetState::Offline, _) => (
            "インターネット回線が切れています",
            &[
                "ルーター・ONUのランプを確認し、電源を入れ直してください",
                "予備回線かスマートフォンのテザリングに切り替えてください",
                "直らなければ回線業者に連絡してください",
            ],
        ),
        (Language::En, NetState::Offline, _) => (
            "The internet line is down",
            &[
                "Check the lights on the router and the fibre box, and restart them",
                "Switch to the backup line or a phone's hotspot",
                "If that does not help, call the line provider",
            ],
        ),
    };
    Advice {
        headline: headline.to_owned(),
        steps: steps.iter().map(|s| (*s).to_owned()).collect(),
    }
}
