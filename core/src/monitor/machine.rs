//! The monitor's state machine: rounds of probe results in, transitions out. Pure (time
//! comes with each round), so a whole outage can be replayed in a test.
//!
//! Each round gets a verdict (healthy, lossy, degraded with a cause, down with a cause).
//! The state falls after `down_after` consecutive rounds pointing lower and recovers only
//! after `up_after` consecutive rounds pointing higher, and while anything looks wrong the
//! runner probes again quickly (`pace`).

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{millis_ts, Cause, Failure, NetState, ProbeKind, ProbeResult, Round, Transition};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub down_after: u32,
    pub up_after: u32,
    pub interval: Duration,
    pub confirm_interval: Duration,
    pub offline_interval: Duration,
}

impl From<&super::MonitorConfig> for Thresholds {
    fn from(c: &super::MonitorConfig) -> Self {
        Thresholds {
            down_after: c.down_after,
            up_after: c.up_after,
            interval: Duration::from_millis(c.interval_ms),
            confirm_interval: Duration::from_millis(c.confirm_interval_ms),
            offline_interval: Duration::from_millis(c.offline_interval_ms),
        }
    }
}

/// What one round says on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Healthy,
    /// The internet answered, but some probes were lost.
    Lossy,
    Degraded(Cause),
    Down(Cause),
}

/// Endpoint answers remembered to judge packet loss; how many lost ones make the line
/// degraded, and how few let it recover (a gap between the two keeps a lossy line from
/// flapping between yellow and green).
const LOSS_WINDOW: usize = 40;
const LOST_TO_DEGRADE: usize = 6;
const LOST_TO_STAY_DEGRADED: usize = 2;

#[derive(Debug, Clone)]
pub struct Machine {
    thresholds: Thresholds,
    state: NetState,
    cause: Option<Cause>,
    /// Where the rounds point, how many in a row, and since when.
    candidate: Option<(NetState, Option<Cause>)>,
    streak: u32,
    streak_since: Option<DateTime<Utc>>,
    last_verdict: Verdict,
    /// Recent endpoint answers (`true`: lost) from rounds that were not an outage.
    losses: VecDeque<bool>,
    /// A failing round seen while not offline: one lost answer if the next round shows no
    /// outage (a heartbeat lost to a lossy line). Never more than one: a confirming round
    /// asks eight times, and one blip must not read as heavy loss.
    pending: bool,
    /// The upstream's last answer: it is checked less often than the rest.
    upstream_ok: Option<bool>,
}

impl Machine {
    /// A machine that assumes the line is up until rounds say otherwise: starting offline
    /// would raise an alarm at every start.
    pub fn new(thresholds: Thresholds) -> Machine {
        Machine {
            thresholds,
            state: NetState::Online,
            cause: None,
            candidate: None,
            streak: 0,
            streak_since: None,
            last_verdict: Verdict::Healthy,
            losses: VecDeque::with_capacity(LOSS_WINDOW),
            pending: false,
            upstream_ok: None,
        }
    }

    pub fn set_thresholds(&mut self, thresholds: Thresholds) {
        self.thresholds = thresholds;
    }

    pub fn state(&self) -> NetState {
        self.state
    }

    /// No change of state is waiting for confirmation: the state stands as the rounds so
    /// far found it.
    pub fn settled(&self) -> bool {
        self.candidate.is_none()
    }

    pub fn cause(&self) -> Option<Cause> {
        self.cause
    }

    /// Whether the upstream failed its last check (the runner then checks it every round).
    pub fn upstream_failing(&self) -> bool {
        self.upstream_ok == Some(false)
    }

    /// Whether the next round should include every probe: to confirm a change, to
    /// classify what failed, and while offline (to see what comes back).
    pub fn wants_full_round(&self) -> bool {
        self.candidate.is_some()
            || self.state == NetState::Offline
            || matches!(self.last_verdict, Verdict::Down(_))
    }

    /// Whether a heartbeat must ask an endpoint: away from online, a DNS answer alone says
    /// nothing about the way back.
    pub fn wants_endpoint(&self) -> bool {
        self.state != NetState::Online
    }

    /// How long to wait before the next round: at once to confirm a change (while
    /// offline, at the offline pace), else the heartbeat's interval.
    pub fn pace(&self) -> Duration {
        if self.state == NetState::Offline {
            self.thresholds.offline_interval
        } else if self.candidate.is_some() {
            self.thresholds.confirm_interval
        } else {
            self.thresholds.interval
        }
    }

    /// Take one round; returns the transition it completes, if any.
    pub fn observe(&mut self, round: &Round) -> Option<Transition> {
        if let Some(up) = round.results.iter().find(|r| r.kind == ProbeKind::Upstream) {
            self.upstream_ok = Some(up.ok);
        }
        let verdict = self.verdict(&round.results);
        self.last_verdict = verdict;
        // Lost means unanswered in time. "No route" or a refusal is an answer about the
        // network (e.g. a request sent a moment before a returning cable's route was back),
        // not a packet lost on a lossy line.
        let answers: Vec<bool> = round
            .results
            .iter()
            .filter(|r| r.kind == ProbeKind::Endpoint)
            .map(|r| !r.ok && r.failure == Some(Failure::Timeout))
            .collect();
        if matches!(verdict, Verdict::Down(_)) {
            // An outage, or one unlucky round: the next round tells. What an outage lost
            // says nothing about the line after it.
            self.pending = self.state != NetState::Offline && answers.iter().any(|lost| *lost);
        } else {
            let pending = std::mem::take(&mut self.pending).then_some(true);
            for lost in pending.into_iter().chain(answers) {
                if self.losses.len() == LOSS_WINDOW {
                    self.losses.pop_front();
                }
                self.losses.push_back(lost);
            }
        }
        let desired = self.desired(verdict);

        if desired == (self.state, self.cause) {
            self.candidate = None;
            self.streak = 0;
            self.streak_since = None;
            return None;
        }
        // Rounds pointing the same way (same state; the cause may sharpen) extend the streak.
        match self.candidate {
            Some((state, _)) if state == desired.0 => self.streak += 1,
            _ => {
                self.streak = 1;
                self.streak_since = Some(round.at);
            }
        }
        self.candidate = Some(desired);
        let needed = if desired.0.severity() < self.state.severity() {
            self.thresholds.up_after
        } else {
            self.thresholds.down_after
        };
        if self.streak < needed {
            return None;
        }
        let from = self.state;
        self.state = desired.0;
        self.cause = desired.1;
        let since = self.streak_since.unwrap_or(round.at);
        self.candidate = None;
        self.streak = 0;
        self.streak_since = None;
        if self.state == NetState::Offline {
            // What was lost in an outage says nothing about the line's quality after it.
            self.losses.clear();
            self.pending = false;
        }
        Some(Transition {
            at: millis_ts(round.at),
            since: millis_ts(since),
            from,
            state: self.state,
            cause: self.cause,
            probes: round.results.clone(),
        })
    }

    fn desired(&self, verdict: Verdict) -> (NetState, Option<Cause>) {
        match verdict {
            Verdict::Down(c) => (NetState::Offline, Some(c)),
            Verdict::Degraded(c) => (NetState::Degraded, Some(c)),
            Verdict::Healthy | Verdict::Lossy => {
                let lost = self.losses.iter().filter(|l| **l).count();
                let in_loss = self.state == NetState::Degraded && self.cause == Some(Cause::Loss);
                if lost >= LOST_TO_DEGRADE || (in_loss && lost >= LOST_TO_STAY_DEGRADED) {
                    (NetState::Degraded, Some(Cause::Loss))
                } else {
                    (NetState::Online, None)
                }
            }
        }
    }

    fn verdict(&self, results: &[ProbeResult]) -> Verdict {
        let of = |kind: ProbeKind| results.iter().filter(move |r| r.kind == kind);
        if of(ProbeKind::Link).any(|r| !r.ok) {
            return Verdict::Down(Cause::LocalLink);
        }
        let endpoints: Vec<&ProbeResult> = of(ProbeKind::Endpoint).collect();
        let dns_failed = of(ProbeKind::Dns).any(|r| !r.ok);
        let dns_ok = of(ProbeKind::Dns).any(|r| r.ok);
        let gateway_failed = of(ProbeKind::Gateway).any(|r| !r.ok);
        let endpoint_ok = endpoints.iter().any(|r| r.ok);
        let failed = |f: Failure| endpoints.iter().filter(move |r| r.failure == Some(f));

        if !endpoint_ok && !endpoints.is_empty() {
            // No route even to the router: the adapter or its network is gone. (Endpoints
            // on a kept-alive connection time out instead, so they cannot tell.)
            if of(ProbeKind::Gateway).any(|r| r.failure == Some(Failure::Unreachable)) {
                return Verdict::Down(Cause::LocalLink);
            }
            if failed(Failure::WrongContent).count() > 0 || failed(Failure::Tls).count() > 0 {
                return Verdict::Down(Cause::Captive);
            }
            if dns_failed
                && !dns_ok
                && endpoints
                    .iter()
                    .all(|r| r.failure == Some(Failure::NameNotResolved))
            {
                return Verdict::Down(Cause::Dns);
            }
            if gateway_failed {
                return Verdict::Down(Cause::Gateway);
            }
            // The clinic's system still answering means the desk can work: degraded.
            if self.upstream_ok == Some(true) && of(ProbeKind::Upstream).any(|r| r.ok) {
                return Verdict::Degraded(Cause::Internet);
            }
            return Verdict::Down(Cause::Internet);
        }
        if endpoints.is_empty() && dns_failed && !dns_ok {
            // A heartbeat without an endpoint: its one DNS query went unanswered. A cut
            // line, or DNS alone: the confirming round it brings tells which.
            return Verdict::Down(Cause::Internet);
        }
        if dns_failed && !dns_ok {
            return Verdict::Degraded(Cause::Dns);
        }
        if self.upstream_ok == Some(false) {
            return Verdict::Degraded(Cause::Upstream);
        }
        if endpoints.iter().any(|r| !r.ok) {
            return Verdict::Lossy;
        }
        Verdict::Healthy
    }
}

#[cfg(test)]
mod tests;
