//! The texts of the OS notifications the desk shows, in its language.

use serde::Serialize;

use crate::booking::{BookingState, BookingView};
use crate::config::Language;
use crate::desk::SignalsView;
use crate::monitor::advice::LineView;
use crate::monitor::NetState;

/// One OS notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// A change of the line's state: what happened, then what to try first.
pub(crate) fn line(language: Language, view: &LineView) -> Notice {
    let title = match (language, view.status.state) {
        (Language::Ja, NetState::Offline) => "つなぎ：回線が切れました",
        (Language::Ja, NetState::Degraded) => "つなぎ：回線が不安定です",
        (Language::Ja, NetState::Online) => "つなぎ：回線が復旧しました",
        (Language::En, NetState::Offline) => "Tsunagi: the line is down",
        (Language::En, NetState::Degraded) => "Tsunagi: the line is unreliable",
        (Language::En, NetState::Online) => "Tsunagi: the line is back",
    };
    let body = match view.advice.steps.first() {
        Some(step) => format!("{}\n{step}", view.advice.headline),
        None => view.advice.headline.clone(),
    };
    Notice {
        title: title.to_owned(),
        body,
    }
}

/// Back online with web booking still stopped from the desk: reopen it (issue 17). `None`
/// when booking is open (or being reopened).
pub(crate) fn booking_reminder(language: Language, view: &BookingView) -> Option<Notice> {
    if !matches!(
        view.state,
        BookingState::Paused | BookingState::PauseWaiting
    ) {
        return None;
    }
    let since = view
        .pause
        .as_ref()
        .map(|p| p.requested_label.as_str())
        .unwrap_or("");
    let by_hand = view.pause.as_ref().is_some_and(|p| p.by_hand);
    let (title, body) = match (language, by_hand) {
        (Language::Ja, false) => (
            "つなぎ：Web予約は止めたままです",
            format!("回線は戻りました（{since}から停止中）。再開するときは「Web予約を再開」を押してください。"),
        ),
        (Language::Ja, true) => (
            "つなぎ：Web予約は止めたままです",
            format!("回線は戻りました（{since}から停止中）。予約サービスで受付を再開し、「再開しました」を押してください。"),
        ),
        (Language::En, false) => (
            "Tsunagi: web booking is still stopped",
            format!("The line is back (stopped since {since}). Press \"Reopen web booking\" to open it again."),
        ),
        (Language::En, true) => (
            "Tsunagi: web booking is still stopped",
            format!("The line is back (stopped since {since}). Reopen it at the booking service, then press \"Reopened\"."),
        ),
    };
    Some(Notice {
        title: title.to_owned(),
        body,
    })
}

/// The morning summary: what happened while nobody was looking (`None` when nothing did).
pub(crate) fn morning(language: Language, view: &SignalsView) -> Option<Notice> {
    if view.signals.is_empty() {
        return None;
    }
    let title = match language {
        Language::Ja => "つなぎが見ていなかった間のお知らせ",
        Language::En => "While Tsunagi was not watching",
    };
    let body: Vec<&str> = view.signals.iter().map(|s| s.text.as_str()).collect();
    Some(Notice {
        title: title.to_owned(),
        body: body.join("\n"),
    })
}

/// A file of the watched export folder was refused: which, and that nothing changed. The
/// problems themselves are listed in the window (the notification names the first line).
pub(crate) fn folder_refused(language: Language, view: &crate::view::FolderView) -> Notice {
    let first = view.problems.iter().map(|p| p.line).find(|l| *l > 0);
    let (title, body) = match language {
        Language::Ja => (
            "つなぎ：予約ファイルを取り込めませんでした",
            match first {
                Some(line) => format!(
                    "{}（{}行目ほか {}件の問題）。予約データは変わっていません。設定の「取り込みフォルダ」で確認してください。",
                    view.file_name, line, view.problems.len()
                ),
                None => format!(
                    "{}：ファイルを読めません。予約データは変わっていません。設定の「取り込みフォルダ」で確認してください。",
                    view.file_name
                ),
            },
        ),
        Language::En => (
            "Tsunagi: an appointments file was refused",
            match first {
                Some(line) => format!(
                    "{} (line {} and {} problem(s) in all). The appointments did not change. See the export folder in the settings.",
                    view.file_name, line, view.problems.len()
                ),
                None => format!(
                    "{}: the file cannot be read. The appointments did not change. See the export folder in the settings.",
                    view.file_name
                ),
            },
        ),
    };
    Notice {
        title: title.to_owned(),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: back online with web booking still stopped, the desk is reminded; not once
    /// it is open or being reopened.
    #[test]
    fn issue_17_back_online_with_web_booking_stopped_the_desk_is_reminded() {
        let pause = crate::booking::PauseView {
            id: "p1".into(),
            by_hand: false,
            requested_label: "08:10".into(),
            requested_at: "2026-12-02T23:10:00Z".into(),
            by: None,
            until_label: "24:00".into(),
            op_state: crate::outbox::OpState::Done,
            confirmed_label: Some("08:25".into()),
            paused: 12,
            refused: Vec::new(),
            error: None,
            kept_closed_label: None,
            kept_closed_by: None,
        };
        let view = |state| BookingView {
            can_pause: true,
            card: None,
            state,
            pause: Some(pause.clone()),
            resume: None,
        };
        for state in [BookingState::Paused, BookingState::PauseWaiting] {
            let n = booking_reminder(Language::Ja, &view(state)).unwrap();
            assert_eq!(n.title, "つなぎ：Web予約は止めたままです");
            assert!(
                n.body.contains("08:10") && n.body.contains("再開"),
                "{}",
                n.body
            );
        }
        for state in [
            BookingState::Open,
            BookingState::ResumeWaiting,
            BookingState::KeptClosed,
        ] {
            assert_eq!(booking_reminder(Language::Ja, &view(state)), None);
        }
    }
    use crate::monitor::signals::{Signal, SignalKind};

    /// Issue 20, item 12: the morning notification used the old words 「不在中のできごと」
    /// after the window had moved to plain ones; both now say the same.
    #[test]
    fn issue_20_the_morning_notice_says_what_the_window_says() {
        let view = SignalsView {
            signals: vec![Signal {
                kind: SignalKind::Outages,
                count: 2,
                from: "2026-12-01T17:14:00Z".into(),
                to: None,
                text: "昨夜 2:14–2:16 に回線断が2回".into(),
            }],
            until: String::new(),
        };
        let notice = morning(Language::Ja, &view).unwrap();
        assert_eq!(notice.title, "つなぎが見ていなかった間のお知らせ");
        assert_eq!(notice.body, "昨夜 2:14–2:16 に回線断が2回");
        assert!(morning(
            Language::Ja,
            &SignalsView {
                signals: vec![],
                until: String::new()
            }
        )
        .is_none());
    }
}
