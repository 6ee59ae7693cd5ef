//! The runtime: all of the desk's background work, with no window. A whole outage morning
//! in a network namespace against the real FHIR server, in process (manual clock) and from
//! the terminal (`tsunagi-cli run`). Needs root for the namespaces (CI runs as root).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::broadcast;
use tsunagi_core::calls::{CallOutcome, CallRecord};
use tsunagi_core::clock::ManualClock;
use tsunagi_core::config::DataDir;
use tsunagi_core::keychain::Keychain;
use tsunagi_core::monitor::NetState;
use tsunagi_core::runtime::{Health, Runtime, RuntimeEvent, RuntimeOptions};
use tsunagi_core::view::DeskEvent;
use tsunagi_core::{Desk, DeskOptions};
use tsunagi_testkit::clinic::{clinic_day, schedule, slot};
use tsunagi_testkit::monitor_rig::MonitorRig;
use tsunagi_testkit::netns::{Network, PUBLIC};

use common::{eight_oclock, tokyo_today};

const CLI: &str = env!("CARGO_BIN_EXE_tsunagi-cli");

/// The desk's namespace with the probe targets and hfs relayed in as the source; `count`
/// appointments today on the server.
fn rig() -> MonitorRig {
    let rig = MonitorRig::prepare(Path::new(CLI), false, true, "upstream_every_secs = 2\n");
    let hfs = &rig.relay.as_ref().unwrap().1;
    hfs.put_all(&clinic_day(tokyo_today(), 20, "m").resources());
    rig
}

fn cut(net: &Network) {
    net.fault("input", &format!("ip daddr {PUBLIC} drop"));
}

/// Events until one matches, within `within`; every event seen is kept in `seen`.
async fn until(
    events: &mut broadcast::Receiver<RuntimeEvent>,
    seen: &mut Vec<RuntimeEvent>,
    within: Duration,
    what: &str,
    found: impl Fn(&RuntimeEvent) -> bool,
) -> usize {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) => {
                let hit = found(&event);
                seen.push(event);
                if hit {
                    return seen.len() - 1;
                }
            }
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => panic!("{n} events lost"),
            Ok(Err(e)) => panic!("events ended: {e}"),
            Err(_) => panic!("no {what} within {within:?}; events so far: {seen:#?}"),
        }
    }
}

fn line_is(event: &RuntimeEvent, state: NetState) -> bool {
    matches!(event, RuntimeEvent::Line { view, notice: Some(_), .. } if view.status.state == state)
}

#[test]
fn an_outage_morning_runs_on_the_runtime_without_a_window() {
    let rig = rig();
    let hfs = &rig.relay.as_ref().unwrap().1;
    // 08:35 at the clinic: the day's booking pause is still on when the line comes back.
    let clock = Arc::new(ManualClock::new(
        eight_oclock() + chrono::Duration::minutes(35),
    ));
    let keychain = Arc::new(Keychain::mock());
    let (net, data) = (&rig.net, rig.data_dir().to_owned());
    let options = || DeskOptions {
        data_dir: DataDir::at(&data),
        keychain: keychain.clone(),
        clock: clock.clone(),
        locale: None,
    };
    net.within_desk(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let desk = Arc::new(Desk::open(options()).unwrap());
        let runtime = Runtime::start(desk.clone(), RuntimeOptions::default(), rt.handle()).unwrap();
        let mut events = runtime.subscribe();
        let mut seen = Vec::new();
        rt.block_on(async {
            // At start: the mirror is pulled without anyone asking.
            until(&mut events, &mut seen, Duration::from_secs(30), "first pull", |e| {
                matches!(e, RuntimeEvent::Desk { event: DeskEvent::MirrorUpdated { status } } if status.appointments == 20)
            })
            .await;
            // One runtime per install: a second start is refused while this one runs.
            let second = Runtime::start(desk.clone(), RuntimeOptions::default(), rt.handle());
            assert_eq!(second.unwrap_err().code(), "store.already_running");

            // 08:40: the line goes.
            cut(net);
            let down = until(&mut events, &mut seen, Duration::from_secs(15), "offline", |e| {
                line_is(e, NetState::Offline)
            })
            .await;
            let RuntimeEvent::Line { view, notice, raise_window } = &seen[down] else { unreachable!() };
            assert!(*raise_window, "the window comes to the front when the line goes");
            assert_eq!(notice.as_ref().unwrap().title, "Tsunagi: the line is down");
            let incident = view.status.incident_id.expect("the outage is an incident");
            assert_eq!(runtime.tray().health, Health::Offline);

            // The desk works through it: two patients cancel, one pays.
            clock.advance(chrono::Duration::minutes(5));
            for id in ["ma11", "ma12"] {
                desk.record_call(CallRecord {
                    appointment_id: id.into(),
                    outcome: CallOutcome::Cancelled,
                    new_start: None,
                    note: None,
                    staff: Some("受付 山田".into()),
                    replace_earlier: false,
                })
                .await
                .unwrap();
            }
            // And web booking is stopped from the desk (issue 17).
            desk.pause_booking(None, Some("受付 山田")).await.unwrap();
            // Each cancel is the appointment's change and the call's record; the pause.
            let queued = desk.sync_view().await.unwrap().counts;
            assert_eq!(queued.waiting(), 5, "{queued:?}");

            // The line comes back: what was done offline goes up once, then the mirror is
            // pulled again and shows it.
            clock.advance(chrono::Duration::minutes(20));
            net.clear_faults();
            let up = until(&mut events, &mut seen, Duration::from_secs(20), "online", |e| {
                line_is(e, NetState::Online)
            })
            .await;
            let recovered = until(&mut events, &mut seen, Duration::from_secs(30), "recovery", |e| {
                matches!(e, RuntimeEvent::Recovered { .. })
            })
            .await;
            let RuntimeEvent::Recovered { incident: closed, delivered, parked, mirror, error, booking } = &seen[recovered] else { unreachable!() };
            assert_eq!(*closed, Some(incident));
            // The sender may have got some through on its own retry before the monitor
            // saw the line back; the recovery sends the rest.
            assert!(*delivered <= 5 && *parked == 0, "{delivered} {parked} {error:?}");
            // Back online with web booking still stopped: the desk is reminded.
            assert_eq!(
                booking.as_ref().map(|n| n.title.as_str()),
                Some("Tsunagi: web booking is still stopped")
            );
            assert!(mirror.is_some(), "pulled after sending: {error:?}");
            // In order: down, back up, then the recovery; the last send before the pull
            // that the recovery made.
            let sent = seen
                .iter()
                .rposition(|e| matches!(e, RuntimeEvent::Desk { event: DeskEvent::OutboxChanged { counts } } if counts.waiting() == 0))
                .expect("the sends are announced");
            let pulled = seen
                .iter()
                .rposition(|e| matches!(e, RuntimeEvent::Desk { event: DeskEvent::MirrorUpdated { .. } }))
                .unwrap();
            assert!(down < up && up < recovered, "order: {seen:#?}");
            assert!(down < sent && sent < pulled && pulled < recovered, "order: {seen:#?}");

            let view = desk.sync_view().await.unwrap();
            assert_eq!((view.counts.waiting(), view.counts.done), (0, 5), "{:?}", view.counts);
            assert_eq!(runtime.tray().health, Health::Online);
            runtime.shutdown().await;
        });
        // Stopped: the install's runtime can start again (the lock went with it).
        let again = Runtime::start(desk.clone(), RuntimeOptions::default(), rt.handle()).unwrap();
        rt.block_on(again.shutdown());
    });
    for id in ["ma11", "ma12"] {
        let appointment = hfs.get(&format!("Appointment/{id}"));
        assert_eq!(appointment["status"], "cancelled", "{appointment}");
    }
}

/// `tsunagi-cli run --json`: lines until one matches, within `within`.
fn expect_line(
    rig: &mut MonitorRig,
    within: Duration,
    what: &str,
    found: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    while let Some(left) = within.checked_sub(started.elapsed()) {
        let Some(v) = rig.next(left) else { break };
        if found(&v) {
            return v;
        }
    }
    panic!("no {what} within {within:?}; lines so far: {:#?}", rig.seen);
}

fn line_state(v: &Value) -> Option<&str> {
    (v["kind"] == "line" && !v["notice"].is_null())
        .then(|| v["view"]["status"]["state"].as_str())
        .flatten()
}

#[test]
fn tsunagi_cli_run_tells_the_outage_story_and_stops_cleanly_on_sigterm() {
    let mut rig = rig();
    rig.spawn(&["run", "--json"]);
    expect_line(&mut rig, Duration::from_secs(30), "first pull", |v| {
        v["kind"] == "desk" && v["event"]["kind"] == "mirror-updated"
    });
    // Beside it, a second runtime for the same install is refused; reading still works.
    let beside = rig
        .session
        .command(CLI)
        .arg("--data-dir")
        .arg(rig.data_dir())
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(beside.status.code(), Some(4), "{beside:?}");
    let said = String::from_utf8_lossy(&beside.stderr);
    assert!(said.contains("already running"), "{said}");
    assert!(
        rig.cli(&["status"]).contains("20"),
        "reads keep working beside it"
    );

    cut(&rig.net);
    let down = expect_line(&mut rig, Duration::from_secs(15), "offline", |v| {
        line_state(v) == Some("offline")
    });
    assert!(
        down["view"]["status"]["incident_id"].as_i64().is_some(),
        "{down}"
    );
    rig.cli(&["call", "ma11", "cancelled"]);
    rig.cli(&["arrive", "ma13"]);
    rig.net.clear_faults();
    expect_line(&mut rig, Duration::from_secs(20), "online", |v| {
        line_state(v) == Some("online")
    });
    let recovered = expect_line(&mut rig, Duration::from_secs(30), "recovery", |v| {
        v["kind"] == "recovered"
    });
    // Sent by the recovery, or by the sender's own retry just before it.
    assert!(recovered["delivered"].as_u64().unwrap() <= 3, "{recovered}");
    assert_eq!(
        recovered["incident"], down["view"]["status"]["incident_id"],
        "{recovered}"
    );
    assert!(
        recovered["mirror"]["appointments"].as_u64().is_some(),
        "{recovered}"
    );

    rig.stop_monitor();
    let hfs = &rig.relay.as_ref().unwrap().1;
    assert_eq!(hfs.get("Appointment/ma11")["status"], "cancelled");
    assert_eq!(hfs.get("Appointment/ma13")["status"], "arrived");
}

/// Issue 17: the line is cut, web booking is stopped at the desk (after a call), and staff
/// tether a phone: as soon as the backup route is there, the pause reaches the clinic's
/// server, before the call that was queued earlier. `tsunagi-cli run` does it with nobody
/// pressing anything more. (It took 20 s at first: the desk's pooled connection to the
/// server, opened over the cut line, waited out its request timeout.)
#[test]
fn issue_17_on_the_backup_line_the_booking_pause_goes_out_first() {
    // The CLI runs on the system clock: the Slots sit in the next minutes of a clinic day.
    tsunagi_testkit::clear_of_midnight(Duration::from_secs(300));
    let mut rig = MonitorRig::prepare(Path::new(CLI), true, true, "upstream_every_secs = 2\n");
    let hfs = &rig.relay.as_ref().unwrap().1;
    hfs.put_all(&clinic_day(tokyo_today(), 20, "m").resources());
    hfs.put(&schedule("bsched"));
    let slots: Vec<String> = (0..5)
        .map(|i| {
            let id = format!("bs{i}");
            let start = chrono::Utc::now() + chrono::Duration::seconds(60 + 10 * i);
            hfs.put(&slot(&id, "bsched", start, "free"));
            id
        })
        .collect();
    rig.spawn(&["run", "--json"]);
    expect_line(&mut rig, Duration::from_secs(30), "first pull", |v| {
        v["kind"] == "desk" && v["event"]["kind"] == "mirror-updated"
    });

    rig.net.set_link(&rig.net.primary, false);
    expect_line(&mut rig, Duration::from_secs(15), "offline", |v| {
        line_state(v) == Some("offline")
    });
    rig.cli(&["call", "ma11", "cancelled"]);
    rig.cli(&["booking", "pause"]);

    // A phone is tethered: traffic leaves through the other adapter, at a phone's pace.
    assert_eq!(rig.net.backup_rate().as_deref(), Some("1Mbit"));
    let appeared = Instant::now();
    let backup = rig.net.backup.as_ref().unwrap();
    rig.net.route_via(backup);
    let mut confirmed = None;
    while appeared.elapsed() < Duration::from_secs(60) {
        let status: Value = serde_json::from_str(&rig.cli(&["booking", "status", "--json"]))
            .expect("booking status as JSON");
        if status["state"] == "paused" {
            confirmed = Some(appeared.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = confirmed.expect("the pause confirmed over the backup line");
    println!("backup route up → pause confirmed on the server: {took:?}");
    // The connection kept alive over the cut line must not hold the pause for its whole
    // request timeout (20 s): the goal is 5 s (docs/booking.md), the usual figure ~2 s.
    assert!(
        took < Duration::from_secs(10),
        "the pause waited {took:?} after the backup route appeared"
    );

    // The call queued before it follows.
    let sent = Instant::now();
    while !rig
        .cli(&["outbox", "list", "--json"])
        .lines()
        .all(|l| l.contains("\"state\":\"done\""))
    {
        assert!(
            sent.elapsed() < Duration::from_secs(30),
            "the call never went"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    rig.stop_monitor();
    let hfs = &rig.relay.as_ref().unwrap().1;
    let updated = |r: &Value| r["meta"]["lastUpdated"].as_str().unwrap().to_owned();
    let mut last_slot = String::new();
    for id in &slots {
        let s = hfs.get(&format!("Slot/{id}"));
        assert_eq!(s["status"], "busy-unavailable", "{id}");
        last_slot = last_slot.max(updated(&s));
    }
    let call = hfs.get("Appointment/ma11");
    assert_eq!(call["status"], "cancelled");
    assert!(
        last_slot < updated(&call),
        "the pause before the call queued earlier: slots {last_slot}, call {}",
        updated(&call)
    );
}

/// Issue 16 (an outage survives a restart): the desk is restarted in the middle of an
/// outage (an update, a reboot). The outage goes on as the same incident, with the
/// checklist ticked before the restart; it used to end at the restart, and the desk's
/// checklist started empty. Restarted again after the line came back while it was off,
/// the outage is over at the first look.
#[test]
fn an_outage_goes_on_across_a_restart_with_its_checklist() {
    let mut rig = rig();
    rig.spawn(&["run", "--json"]);
    expect_line(&mut rig, Duration::from_secs(30), "first pull", |v| {
        v["kind"] == "desk" && v["event"]["kind"] == "mirror-updated"
    });
    cut(&rig.net);
    let down = expect_line(&mut rig, Duration::from_secs(15), "offline", |v| {
        line_state(v) == Some("offline")
    });
    let incident = down["view"]["status"]["incident_id"].as_i64().unwrap();
    rig.cli(&["checklist", "tick", "0"]);
    let checklist = |rig: &MonitorRig| -> Value {
        serde_json::from_str(&rig.cli(&["checklist", "--json"])).unwrap()
    };

    rig.stop_monitor();
    rig.spawn(&["run", "--json"]);
    let again = expect_line(&mut rig, Duration::from_secs(30), "offline again", |v| {
        line_state(v) == Some("offline")
    });
    assert_eq!(
        again["view"]["status"]["incident_id"].as_i64(),
        Some(incident),
        "the same outage: {again}"
    );
    let list = checklist(&rig);
    assert_eq!(list["incident_id"].as_i64(), Some(incident), "{list}");
    assert_eq!(
        list["items"][0]["done"], true,
        "ticked before the restart: {list}"
    );

    // Off again, and the line comes back meanwhile: over at the first look.
    rig.stop_monitor();
    rig.net.clear_faults();
    rig.spawn(&["run", "--json"]);
    tsunagi_testkit::wait_until(Duration::from_secs(30), "the outage to end", || {
        checklist(&rig)["incident_id"].is_null()
    });
    rig.stop_monitor();
}
