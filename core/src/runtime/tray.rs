//! What the tray shows, decided here as data: the shell only paints it. The line decides
//! first (red offline, yellow degraded, with the cause), then the last pull; a running
//! drill marks the tooltip and relabels the menu.

use serde::Serialize;

use crate::config::Language;
use crate::monitor::advice::LineView;
use crate::monitor::NetState;
use crate::view::MirrorStatus;

/// The icon's colour: the monitor's three states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Online,
    Degraded,
    Offline,
}

impl Health {
    /// The tray icon in this colour (PNG), the same picture in every shell that paints it.
    pub fn icon_png(self) -> &'static [u8] {
        match self {
            Health::Online => include_bytes!("../../../icons/tray-online.png"),
            Health::Degraded => include_bytes!("../../../icons/tray-degraded.png"),
            Health::Offline => include_bytes!("../../../icons/tray-offline.png"),
        }
    }
}

/// The tray menu's labels, in the desk's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrayMenu {
    pub open: String,
    pub sync: String,
    /// Start a drill, or end the one running.
    pub drill: String,
    pub quit: String,
}

/// Everything the tray shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrayView {
    pub health: Health,
    pub tooltip: String,
    pub drill: bool,
    pub menu: TrayMenu,
}

impl TrayView {
    /// Nothing known yet (or no desk to ask): the plain name and the usual menu.
    pub fn idle(language: Language) -> TrayView {
        TrayInputs::default().view(language)
    }
}

/// What the tray is decided from; the runtime keeps it up to date.
#[derive(Debug, Default, Clone)]
pub(crate) struct TrayInputs {
    pub line: Option<LineView>,
    /// The last pull's status, and whether it failed.
    pub pull: Option<(MirrorStatus, bool)>,
    pub drill: bool,
}

impl TrayInputs {
    pub fn view(&self, language: Language) -> TrayView {
        let (health, tip) = self.line_and_pull(language);
        let tooltip = match (self.drill, language) {
            (false, _) => tip,
            (true, Language::Ja) => format!("【訓練中】{tip}"),
            (true, Language::En) => format!("[Drill] {tip}"),
        };
        TrayView {
            health,
            tooltip,
            drill: self.drill,
            menu: menu(language, self.drill),
        }
    }

    fn line_and_pull(&self, language: Language) -> (Health, String) {
        let name = match language {
            Language::Ja => "つなぎ",
            Language::En => "Tsunagi",
        };
        let as_of = self
            .pull
            .as_ref()
            .and_then(|(s, _)| s.synced_at_label.clone());
        if let Some(line) = self
            .line
            .as_ref()
            .filter(|l| l.status.state != NetState::Online)
        {
            let health = match line.status.state {
                NetState::Offline => Health::Offline,
                _ => Health::Degraded,
            };
            let data = match (language, as_of) {
                (Language::Ja, Some(t)) => format!("（{t} 時点のデータ）"),
                (Language::En, Some(t)) => format!(" (data as of {t})"),
                (_, None) => String::new(),
            };
            return (health, format!("{name} — {}{data}", line.advice.headline));
        }
        let Some((status, failed)) = &self.pull else {
            return (Health::Online, "つなぎ Tsunagi".to_owned());
        };
        let health = if *failed {
            Health::Degraded
        } else {
            Health::Online
        };
        let tip = match (language, *failed, status.synced_at_label.as_deref()) {
            (Language::Ja, false, Some(t)) => format!("つなぎ — {t} 時点のデータ"),
            (Language::Ja, true, Some(t)) => {
                format!("つなぎ — 最新に更新できません（{t} 時点のデータ）")
            }
            (Language::Ja, _, None) => "つなぎ — データなし".to_owned(),
            (Language::En, false, Some(t)) => format!("Tsunagi — data as of {t}"),
            (Language::En, true, Some(t)) => {
                format!("Tsunagi — could not refresh (data as of {t})")
            }
            (Language::En, _, None) => "Tsunagi — no data yet".to_owned(),
        };
        (health, tip)
    }
}

fn menu(language: Language, drill: bool) -> TrayMenu {
    let (open, sync, start, end, quit) = match language {
        Language::Ja => ("開く", "最新に更新", "訓練を開始", "訓練を終了", "終了"),
        Language::En => (
            "Open",
            "Refresh now",
            "Start a drill",
            "End the drill",
            "Quit",
        ),
    };
    TrayMenu {
        open: open.to_owned(),
        sync: sync.to_owned(),
        drill: if drill { end } else { start }.to_owned(),
        quit: quit.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::monitor::{Cause, MonitorStatus};

    fn line(state: NetState, cause: Option<Cause>) -> LineView {
        let status = MonitorStatus {
            state,
            cause,
            ..MonitorStatus::starting()
        };
        LineView::new(status, None, &Config::first_start(Some("ja-JP")))
    }

    /// Issue 20, item 12: fetching is 最新に更新 everywhere; the tray's tooltip still said
    /// 同期できません for a failed fetch (同期 is also the tab of what is sent).
    #[test]
    fn issue_20_a_failed_fetch_reads_as_the_windows_word_for_it() {
        let status = crate::view::MirrorStatus {
            configured_source: crate::model::SourceKind::Fhir,
            mirrored_source: None,
            is_demo: false,
            upstream: None,
            clinic_name: None,
            time_zone: "Asia/Tokyo".to_owned(),
            synced_at: None,
            synced_at_label: Some("08:10".to_owned()),
            appointments: 0,
            patients: 0,
            last_pull: None,
            folder: None,
        };
        let inputs = TrayInputs {
            line: Some(line(NetState::Online, None)),
            pull: Some((status, true)),
            drill: false,
        };
        assert_eq!(
            inputs.view(Language::Ja).tooltip,
            "つなぎ — 最新に更新できません（08:10 時点のデータ）"
        );
        assert_eq!(
            inputs.view(Language::En).tooltip,
            "Tsunagi — could not refresh (data as of 08:10)"
        );
    }

    #[test]
    fn the_line_decides_the_colour_before_the_last_pull() {
        let mut inputs = TrayInputs {
            line: Some(line(NetState::Offline, Some(Cause::Internet))),
            pull: None,
            drill: false,
        };
        let view = inputs.view(Language::Ja);
        assert_eq!(view.health, Health::Offline);
        assert_eq!(view.tooltip, "つなぎ — インターネット回線が切れています");
        assert_eq!(view.menu.drill, "訓練を開始");

        inputs.line = Some(line(NetState::Degraded, Some(Cause::Upstream)));
        let view = inputs.view(Language::Ja);
        assert_eq!(view.health, Health::Degraded);
        assert!(
            view.tooltip.contains("予約システムが応答しません"),
            "{view:?}"
        );

        inputs.line = Some(line(NetState::Online, None));
        assert_eq!(inputs.view(Language::En).health, Health::Online);

        inputs.drill = true;
        let view = inputs.view(Language::Ja);
        assert_eq!(
            view.health,
            Health::Online,
            "a drill is practice: the line is as it is"
        );
        assert!(view.tooltip.starts_with("【訓練中】"), "{view:?}");
        assert_eq!(view.menu.drill, "訓練を終了");
        assert_eq!(inputs.view(Language::En).menu.drill, "End the drill");
    }
}
