//! The whole app in a real window: Xvfb, a private D-Bus session with gnome-keyring (the
//! real Secret Service), WebKitWebDriver driven through tauri-driver.
//!
//! Needs what scripts/test.sh installs (Debian: xvfb, dbus, gnome-keyring,
//! webkit2gtk-driver; cargo: tauri-driver). A missing tool fails the test with the name of
//! what to install; it is never skipped.

mod window;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Datelike;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tsunagi_testkit::clinic::{clinic_day, names, schedule, slot};
use tsunagi_testkit::fault_proxy::{Fault, FaultProxy};
use tsunagi_testkit::hfs::Hfs;
use tsunagi_testkit::probe_servers::{DnsServer, HttpEndpoint, CONNECT_BODY};
use tsunagi_testkit::x11::X11;
use tsunagi_testkit::{stop_processes_with_arg, Display, Session};
use window::*;

/// The "booked" status pill's colour (#e0f2fe), on screen only when rows are painted.
const BOOKED_PILL: u32 = 0xe0f2fe;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_shows_the_demo_day_switches_language_and_lives_in_the_tray() {
    let rig = Rig::start("demo-day");
    let client = rig.client().await;

    // The demo clinic's day fills the window, in Japanese by default.
    let n = eventually(
        "appointments in the window",
        Duration::from_secs(30),
        async || {
            let n = rows(&client).await;
            (n > 0).then_some(n)
        },
    )
    .await;
    let as_of = text_of(&client, "data-as-of").await.unwrap();
    assert!(
        as_of.ends_with("時点のデータ") && as_of.len() > "時点のデータ".len(),
        "{as_of:?}"
    );
    assert_eq!(
        text_of(&client, "demo-badge").await.as_deref(),
        Some("デモ")
    );
    assert!(text_of(&client, "day-heading")
        .await
        .unwrap()
        .contains("の予約"));

    // The same data directory, read by the CLI, has exactly these appointments.
    let lines = rig.cli_today_json();
    assert_eq!(n, lines.len(), "window rows vs tsunagi-cli today --json");
    let first_row = text_of(&client, "appointment-row").await.unwrap();
    let first = &lines[0];
    assert!(first_row.contains(first["patient_name"].as_str().unwrap()));
    assert!(
        first_row.contains(&first["start"].as_str().unwrap()[11..16]),
        "{first_row}"
    );
    save_screenshot(&client, &rig.display, "today-ja.png").await;

    // Start at login is on by default: the tray process, hidden (issue 18: the app started
    // it, and this window follows its runtime).
    let entry = std::fs::read_to_string(rig.autostart_entry()).expect("an autostart entry");
    assert!(entry.contains(&format!("{APP}-tray --hidden")), "{entry}");

    // Switch to English in the settings.
    click(&client, "settings-button").await;
    click(&client, "language-en").await;
    eventually("English on screen", Duration::from_secs(10), async || {
        let t = text_of(&client, "data-as-of").await?;
        t.starts_with("data as of ").then_some(())
    })
    .await;
    click(&client, "autostart-toggle").await;
    eventually(
        "the autostart entry removed",
        Duration::from_secs(10),
        async || (!rig.autostart_entry().exists()).then_some(()),
    )
    .await;
    save_screenshot(&client, &rig.display, "settings-en.png").await;
    click(&client, "settings-close").await;
    assert!(text_of(&client, "day-heading")
        .await
        .unwrap()
        .starts_with("Appointments for"));
    let page = text_of(&client, "schedule").await.unwrap();
    assert!(
        page.contains("Booked") && page.contains("Cancelled"),
        "English statuses"
    );
    assert_eq!(rows(&client).await, n);
    save_screenshot(&client, &rig.display, "today-en.png").await;
    let config = rig.config();
    assert!(config.contains("language = \"en\""), "{config}");
    assert!(config.contains("autostart = false"), "{config}");

    // Closing the window hides it to the tray; the app keeps running.
    let x = X11::connect(&rig.display.name());
    let window = x.find_window(WINDOW_TITLE).expect("the app's window");
    assert!(x.is_viewable(window));
    x.request_close(window);
    tsunagi_testkit::wait_until(Duration::from_secs(10), "the window to hide", || {
        !x.is_viewable(window)
    });
    assert_eq!(rows(&client).await, n, "still running behind the tray");

    // A second launch does not start a second app: it brings the first one back.
    let mut second = rig
        .session
        .command(APP)
        .args(["--data-dir"])
        .arg(rig.data_dir())
        .env("DISPLAY", rig.display.name())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("second launch");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = second.kill();
            panic!("the second instance did not hand over and exit");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    tsunagi_testkit::wait_until(Duration::from_secs(10), "the window to come back", || {
        x.is_viewable(window)
    });
    // ...and really repainted: the appointment table is on screen again.
    tsunagi_testkit::wait_until(Duration::from_secs(10), "the rows on screen again", || {
        x.count_color(window, BOOKED_PILL) > 200
    });

    client.close().await.expect("end the WebDriver session");
    drop(rig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_whose_key_is_not_in_this_keychain_is_explained_not_replaced() {
    let rig = Rig::start("key-missing");
    // The install was made under another login (another keychain).
    run_cli(&Session::start(), rig.data_dir(), &["pull"]);
    let db = rig.data_dir().join("tsunagi.db");
    let before = std::fs::read(&db).unwrap();

    let client = rig.client().await;
    let panel = eventually("the error panel", Duration::from_secs(30), async || {
        let el = client
            .find(Locator::Css("[data-testid=error-panel]"))
            .await
            .ok()?;
        let code = el.attr("data-code").await.ok()??;
        // WebKitWebDriver's Get Element Text never answers for this panel (it holds a
        // <details>); the page's own innerText is what a person reads anyway.
        let text = client
            .execute(
                "return document.querySelector('[data-testid=error-panel]').innerText;",
                vec![],
            )
            .await
            .ok()?;
        Some((code, text.as_str()?.to_owned()))
    })
    .await;
    assert_eq!(panel.0, "store.key_missing");
    assert!(
        panel.1.contains("データの鍵が見つかりません"),
        "{}",
        panel.1
    );
    assert!(panel.1.contains("そのまま残しています"), "{}", panel.1);
    assert_eq!(rows(&client).await, 0);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the database was not touched"
    );
    save_screenshot(&client, &rig.display, "error-key-missing-ja.png").await;

    // Issue 7: start over with a fresh mirror; the unreadable file is kept aside.
    click_js(&client, "fresh-start").await;
    save_screenshot(&client, &rig.display, "key-loss-confirm-ja.png").await;
    click_js(&client, "fresh-start-confirm").await;
    // Either where the file went, or the error the panel shows instead (once seen in a
    // full run: neither came within 20 s, and the log was gone; this says which next time).
    let answer = eventually("where the file went", Duration::from_secs(30), async || {
        if let Some(kept) = text_of(&client, "fresh-start-done").await {
            return kept.contains("unreadable").then_some(Ok(kept));
        }
        text_of(&client, "fresh-start-error").await.map(Err)
    })
    .await;
    let kept = answer.unwrap_or_else(|error| panic!("the fresh start failed: {error}"));
    let aside: Vec<_> = std::fs::read_dir(rig.data_dir().join("unreadable"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "db"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(kept.contains(&aside[0].display().to_string()), "{kept}");
    assert_eq!(
        std::fs::read(&aside[0]).unwrap(),
        before,
        "kept byte for byte"
    );
    save_screenshot(&client, &rig.display, "key-loss-done-ja.png").await;
    click_js(&client, "fresh-start-continue").await;
    eventually(
        "the demo day in a fresh mirror",
        Duration::from_secs(30),
        async || (rows(&client).await > 0).then_some(()),
    )
    .await;
    client.close().await.expect("end the WebDriver session");
    drop(rig);
}

/// Issue 7: staff pick their name in the header; settings show retention and check and
/// export the audit trail, which names who did what.
/// The rest of a clinic's staff, for a popover with a scrolling list.
const MORE_STAFF: [&str; 6] = [
    "看護 山本",
    "看護 中村",
    "受付 小林",
    "受付 加藤",
    "会計 吉田",
    "受付 山田",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pick_their_name_and_the_audit_trail_is_checked_and_exported_in_settings() {
    let rig = Rig::start_on_desk_screen("audit");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    let nobody = text_of(&client, "staff-switcher").await.unwrap();
    assert!(nobody.contains("担当者を選択"), "{nobody}");
    pick_staff(&client, "受付 佐々木").await;
    pick_staff(&client, "会計 田中").await;
    click(&client, "staff-switcher").await;
    let names = eventually("the names to pick from", Duration::from_secs(10), async || {
        let v = client
            .execute(
                "return [...document.querySelectorAll('[data-testid=staff-option]')].map(e => e.innerText.trim());",
                vec![],
            )
            .await
            .ok()?;
        let names: Vec<String> = serde_json::from_value(v).ok()?;
        (names.len() == 2).then_some(names)
    })
    .await;
    assert_eq!(names, ["会計 田中", "受付 佐々木"], "most recent first");
    save_screenshot(&client, &rig.display, "staff-switcher-ja.png").await;
    client
        .execute(
            "document.querySelectorAll('[data-testid=staff-option]')[1].click();",
            vec![],
        )
        .await
        .unwrap();
    text_eventually(&client, "staff-switcher", "the switch back", "受付 佐々木").await;

    // Issue 20, item 12: with a whole clinic's names, every line of the popover can be
    // seen: the last name scrolled to is not under the new-name field, and the hint
    // under the field is on the screen.
    for name in MORE_STAFF {
        pick_staff(&client, name).await;
    }
    pick_staff(&client, "受付 佐々木").await;
    click(&client, "staff-switcher").await;
    let hidden = eventually(
        "the popover laid out",
        Duration::from_secs(10),
        async || {
            let v = client
                .execute(
                    "const pop = document.querySelector('[data-testid=staff-popover]'); \
                 const opts = [...pop.querySelectorAll('[data-testid=staff-option]')]; \
                 if (opts.length < 8) return null; \
                 const last = opts.at(-1); last.scrollIntoView({block: 'nearest'}); \
                 const seen = (el) => { const r = el.getBoundingClientRect(); \
                   if (r.bottom > window.innerHeight || r.top < 0) return false; \
                   const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); \
                   return el === at || el.contains(at); }; \
                 const lines = [last, pop.querySelector('[data-testid=staff-new]'), \
                   ...pop.querySelectorAll('.hint')]; \
                 return lines.filter((el) => !seen(el)).map((el) => el.outerHTML);",
                    vec![],
                )
                .await
                .ok()?;
            serde_json::from_value::<Vec<String>>(v).ok()
        },
    )
    .await;
    assert!(hidden.is_empty(), "lines hidden in the popover: {hidden:?}");
    save_screenshot(&client, &rig.display, "staff-switcher-many-ja.png").await;
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E00C}")
        .await
        .unwrap();

    click(&client, "settings-button").await;
    let retention = text_eventually(&client, "retention", "the retention periods", "90").await;
    assert!(retention.contains("90"), "{retention}");
    click_js(&client, "audit-verify").await;
    let result = eventually("the audit check", Duration::from_secs(20), async || {
        client
            .find(Locator::Css("[data-testid=audit-result][data-ok=true]"))
            .await
            .ok()
    })
    .await;
    drop(result);
    click_js(&client, "audit-export").await;
    let saved = text_eventually(&client, "audit-exported", "the export's path", "audit-").await;
    save_screenshot(&client, &rig.display, "settings-records-ja.png").await;
    client.close().await.unwrap();

    let path = saved
        .split_whitespace()
        .find(|w| w.contains("audit-"))
        .unwrap()
        .trim_matches(|c: char| !c.is_ascii_graphic() || c == '「' || c == '」');
    let csv = std::fs::read_to_string(
        rig.data_dir()
            .join("printouts")
            .join(Path::new(path).file_name().unwrap()),
    )
    .unwrap();
    let switch = csv
        .lines()
        .filter(|l| l.contains("staff.switch"))
        .map(|l| l.split(',').nth(3).unwrap().to_owned())
        .collect::<Vec<_>>();
    let mut expected = vec!["受付 佐々木", "会計 田中", "受付 佐々木"];
    expected.extend(MORE_STAFF);
    expected.push("受付 佐々木");
    assert_eq!(switch, expected);
    assert!(csv.contains("today.view"), "{csv}");
    let verify = run_cli(&rig.session, rig.data_dir(), &["audit", "verify"]);
    assert!(verify.contains("intact"), "{verify}");
}

/// The FHIR server and its proxy are set up outside the async part: their blocking HTTP
/// clients must not live inside a runtime.
#[test]
fn a_fhir_server_set_up_in_settings_fills_the_window_and_failures_are_named() {
    tsunagi_testkit::clear_of_midnight(std::time::Duration::from_secs(240));
    let hfs = Hfs::start();
    hfs.put_all(&clinic_day(tokyo_today(), 12, "e").resources());
    let proxy = FaultProxy::start(&hfs.base_url());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(fhir_in_the_window(&proxy));
}

async fn fhir_in_the_window(proxy: &FaultProxy) {
    let rig = Rig::start("fhir");
    let client = rig.client().await;
    eventually("the demo day", Duration::from_secs(30), async || {
        (rows(&client).await == 36).then_some(())
    })
    .await;

    // The IT helper points Tsunagi at the clinic's FHIR server.
    click(&client, "settings-button").await;
    click(&client, "source-fhir").await;
    type_into(&client, "fhir-url", &proxy.url()).await;
    save_screenshot(&client, &rig.display, "settings-fhir-ja.png").await;
    click(&client, "fhir-save").await;
    text_eventually(
        &client,
        "source-outcome",
        "the connection check",
        "接続できました（12件",
    )
    .await;
    click(&client, "settings-close").await;
    eventually("the server's day", Duration::from_secs(20), async || {
        (rows(&client).await == 12).then_some(())
    })
    .await;
    assert_eq!(
        text_of(&client, "demo-badge").await,
        None,
        "no demo badge any more"
    );
    let first = text_of(&client, "appointment-row").await.unwrap();
    assert!(
        first.contains(&names(0).0) && first.contains(&names(0).1),
        "{first}"
    );

    // A captive portal answers instead: the banner names it, the day stays on screen.
    proxy.set(Fault::CaptivePortal);
    click(&client, "sync-button").await;
    text_eventually(
        &client,
        "sync-failed-banner",
        "the captive portal banner",
        "予約システムではないページ",
    )
    .await;
    assert_eq!(rows(&client).await, 12);
    save_screenshot(&client, &rig.display, "sync-failed-captive-portal-ja.png").await;
    proxy.set(Fault::Pass);

    // A CSV export with mistakes: every problem with its line, nothing imported.
    let files = tempfile::tempdir().unwrap();
    let bad = files.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "日付,時刻,氏名,電話番号\n{d},9:00,山田 太郎,090-1234-5678\n{d},25:00,,\n",
            d = tokyo_today()
        ),
    )
    .unwrap();
    click(&client, "settings-button").await;
    type_into(&client, "csv-file", &bad.display().to_string()).await;
    let problems =
        text_eventually(&client, "import-problems", "the import problems", "3行目").await;
    assert!(problems.contains("何も取り込んでいません"), "{problems}");
    assert!(
        problems.contains("時刻が読めません") && problems.contains("氏名が空です"),
        "each problem in the screen's language: {problems}"
    );
    save_screenshot(&client, &rig.display, "import-problems-ja.png").await;
    assert_eq!(rows(&client).await, 12, "nothing imported");

    // A good file (Shift_JIS, as Excel saves it) replaces the day until the server's
    // next successful pull.
    let good = files.path().join("good.csv");
    let text = format!(
        "日付,時刻,氏名,フリガナ,電話番号,来院理由\n{d},09:00,山田 太郎,ヤマダ タロウ,090-1234-5678,定期受診\n{d},09:15,鈴木 花子,スズキ ハナコ,03-3456-7890,発熱\n",
        d = tokyo_today()
    );
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    std::fs::write(&good, &sjis).unwrap();
    type_into(&client, "csv-file", &good.display().to_string()).await;
    let done = text_eventually(
        &client,
        "import-outcome",
        "the import",
        "2件の予約を取り込みました",
    )
    .await;
    assert!(
        done.contains("置き換わります"),
        "FHIR stays the source: {done}"
    );
    click(&client, "settings-close").await;
    eventually("the imported day", Duration::from_secs(20), async || {
        (rows(&client).await == 2).then_some(())
    })
    .await;
    click(&client, "sync-button").await;
    eventually(
        "the server's day again",
        Duration::from_secs(20),
        async || (rows(&client).await == 12).then_some(()),
    )
    .await;

    // The server stops answering; a receipt taken at the terminal waits for it.
    proxy.set(Fault::Status(503));
    run_cli(
        &rig.session,
        rig.data_dir(),
        &[
            "receipt",
            "add",
            "--amount",
            "1200",
            "--method",
            "cash",
            "--name",
            "窓口 太郎",
        ],
    );
    // Switching to the demo asks first and says how many wait; cancelling changes nothing.
    click(&client, "settings-button").await;
    click(&client, "source-demo").await;
    let asked = text_eventually(&client, "switch-waiting", "the question", "1 件").await;
    assert!(
        asked.contains(&proxy.url()),
        "names where they wait: {asked}"
    );
    save_screenshot(&client, &rig.display, "switch-waiting-ja.png").await;
    click(&client, "switch-cancel").await;
    let checked = client
        .execute(
            "return document.querySelector('[data-testid=source-fhir]').checked",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(checked, json!(true), "still the FHIR server");
    // Switched anyway: the receipt stays in 同期, waiting for its server.
    click(&client, "source-demo").await;
    text_eventually(&client, "switch-waiting", "the question again", "1 件").await;
    click(&client, "switch-confirm").await;
    text_eventually(&client, "source-outcome", "the switch", "件").await;
    click(&client, "settings-close").await;
    click(&client, "tab-sync").await;
    let waits = eventually("the receipt waiting", Duration::from_secs(20), async || {
        let el = client
            .find(Locator::Css("[data-testid$=-waits-for]"))
            .await
            .ok()?;
        el.text().await.ok()
    })
    .await;
    assert!(waits.contains(&proxy.url()), "{waits}");
    save_screenshot(&client, &rig.display, "sync-waits-for-ja.png").await;
    let ops = run_cli(&rig.session, rig.data_dir(), &["outbox", "list", "--json"]);
    assert!(ops.contains("\"state\":\"pending\""), "{ops}");

    client.close().await.expect("end the WebDriver session");
    drop(rig);
}

#[test]
fn cli_and_app_agree_on_the_app_data_folder() {
    // Without --data-dir both use the OS app-data folder named by the bundle identifier.
    let conf: Value = serde_json::from_str(
        &std::fs::read_to_string(tsunagi_testkit::package_dir().join("tauri.conf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        conf["identifier"].as_str(),
        Some(tsunagi_core::config::APP_IDENTIFIER)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_recorded_in_the_call_list_is_history_the_cli_sees() {
    let rig = Rig::start_on_desk_screen("call-list");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    click(&client, "tab-calls").await;
    // Tomorrow morning too, so there is somebody to call whatever the hour.
    tick_box(&client, "include-tomorrow").await;
    pick_staff(&client, "受付 佐々木").await;
    let row = tomorrow_call_row(&client).await;
    let id = row.attr("data-id").await.unwrap().expect("row id");
    row.find(Locator::Css("[data-outcome=coming]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text_eventually(&client, "call-progress", "the progress", "1/").await;
    let outcome = text_eventually(&client, "last-outcome", "the outcome", "来院予定").await;
    assert!(outcome.contains("来院予定"));

    // Issue 20, item 2: a phone number does not take the window away from the app (it
    // used to show WebKit's "The URL can't be shown" with no way back): the window stays,
    // and the number is shown large to dial by hand.
    let page = client.current_url().await.unwrap();
    let row = tomorrow_call_row(&client).await;
    let link = row.find(Locator::Css("a[href^='tel:']")).await.unwrap();
    let shown_on_row = link.text().await.unwrap();
    link.click().await.unwrap();
    let number = text_eventually(&client, "phone-number", "the number to dial", "-").await;
    assert_eq!(
        number.trim(),
        shown_on_row.trim(),
        "dialled as written on the row"
    );
    // The OS's phone app is offered too (not pressed here: this Linux has none).
    text_eventually(&client, "phone-dial", "the phone app offered", "電話アプリ").await;
    save_screenshot(&client, &rig.display, "phone-number-ja.png").await;
    assert_eq!(
        client.current_url().await.unwrap(),
        page,
        "the window stayed"
    );
    click(&client, "phone-close").await;
    text_eventually(&client, "last-outcome", "the list, still there", "来院予定").await;

    // Issue 20, item 6: the list's choices survive a switch to another tab and back (they
    // used to reset, and the list lost tomorrow morning).
    click(&client, "tab-receipts").await;
    click(&client, "tab-calls").await;
    let kept = client
        .find(Locator::Css("[data-testid=include-tomorrow]"))
        .await
        .unwrap()
        .is_selected()
        .await
        .unwrap();
    assert!(kept, "tomorrow morning is still included");
    text_eventually(
        &client,
        "last-outcome",
        "tomorrow's row, still listed",
        "来院予定",
    )
    .await;

    let line: Value = run_cli(
        &rig.session,
        rig.data_dir(),
        &["calls", "--json", "--tomorrow-morning"],
    )
    .lines()
    .map(|l| serde_json::from_str::<Value>(l).unwrap())
    .find(|v| v["appointment_id"] == id.as_str())
    .expect("the called patient");
    assert_eq!(line["reached"], true);
    assert_eq!(line["last_outcome"], "coming");
    client.close().await.unwrap();
}

/// Issue 20, items 1 and 9: キャンセル used to change the appointment and queue it with no
/// way back, and 来院予定 afterwards showed 来院予定 while the cancellation was still sent.
/// Now every outcome offers 元に戻す, a contradicting one asks first, the row shows the
/// appointment's status, and a check-in for another day asks too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_a_mis_click_is_undone_and_a_contradicting_outcome_asks_first() {
    let rig = Rig::start_on_desk_screen("undo");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    click(&client, "tab-calls").await;
    tick_box(&client, "include-tomorrow").await;
    pick_staff(&client, "受付 佐々木").await;
    let row = tomorrow_call_row(&client).await;
    let id = row.attr("data-id").await.unwrap().expect("row id");
    let css = format!("[data-testid=call-row][data-id=\"{id}\"]");

    // A mis-click: キャンセル. The row says so at once, and 元に戻す is offered.
    click_css(&client, &format!("{css} [data-outcome=cancelled]")).await;
    text_eventually(&client, "undo-bar", "元に戻す offered", "キャンセル").await;
    call_row_shows(&client, &id, "row-status").await;
    save_screenshot(&client, &rig.display, "call-undo-ja.png").await;
    click(&client, "undo").await;
    text_eventually(&client, "undone", "the undo confirmed", "取り消しました").await;
    call_row_shows(&client, &id, "未連絡").await;
    let booked = row_html(&client, &css).await;
    assert!(!booked.contains("row-status"), "booked again: {booked}");
    // Nothing of it is left to send (the app's sender held it while undo was offered).
    let ops: Vec<Value> = run_cli(&rig.session, rig.data_dir(), &["outbox", "list", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert!(
        ops.iter().all(|o| o["resolution"] == "withdrawn"),
        "{ops:?}"
    );

    // Cancelled for real, then the patient says they will come after all: asked first.
    click_css(&client, &format!("{css} [data-outcome=cancelled]")).await;
    call_row_shows(&client, &id, "row-status").await;
    click_css(&client, &format!("{css} [data-outcome=coming]")).await;
    let asked = text_eventually(
        &client,
        "call-ask",
        "the question",
        "キャンセルを取り消して",
    )
    .await;
    assert!(asked.contains("来院予定"), "{asked}");
    save_screenshot(&client, &rig.display, "call-ask-ja.png").await;
    click(&client, "call-ask-yes").await;
    text_eventually(&client, "last-outcome", "the outcome", "来院予定").await;
    row_booked_again(&client, &css).await;
    let line: Value = run_cli(
        &rig.session,
        rig.data_dir(),
        &["calls", "--json", "--tomorrow-morning"],
    )
    .lines()
    .map(|l| serde_json::from_str::<Value>(l).unwrap())
    .find(|v| v["appointment_id"] == id.as_str())
    .expect("the called patient");
    assert_eq!(line["status"], "booked", "{line}");
    assert_eq!(line["last_outcome"], "coming", "{line}");

    // 来院（受付） sits apart from the phone numbers, and tomorrow's patient is asked about.
    let phones_html = row_html(&client, &format!("{css} .phones")).await;
    assert!(!phones_html.contains("arrive"), "{phones_html}");
    click_css(&client, &format!("{css} [data-testid=arrive]")).await;
    let asked = text_eventually(&client, "call-ask", "the other-day question", "今日の来院").await;
    assert!(asked.contains("受付しますか"), "{asked}");
    click(&client, "call-ask-no").await;
    let html = row_html(&client, &css).await;
    assert!(
        !html.contains("data-testid=\"arrived\""),
        "not checked in: {html}"
    );
    // Said yes by mistake: the check-in is offered back like any outcome.
    click_css(&client, &format!("{css} [data-testid=arrive]")).await;
    text_eventually(&client, "call-ask", "the other-day question", "今日の来院").await;
    click(&client, "call-ask-yes").await;
    text_eventually(&client, "arrived", "the check-in on the row", "来院").await;
    text_eventually(&client, "undo-bar", "元に戻す offered", "来院").await;
    click(&client, "undo").await;
    text_eventually(
        &client,
        "undone",
        "the check-in taken back",
        "取り消しました",
    )
    .await;
    let html = row_html(&client, &css).await;
    assert!(
        !html.contains("data-testid=\"arrived\""),
        "the check-in taken back: {html}"
    );
    assert_eq!(call_line(&rig, &id)["arrived_at"], Value::Null);

    // Issue 20, item 3: 日時変更 starts from the old slot, date and time apart.
    let old_slot = clinic_clock(&call_line(&rig, &id));
    let (old_date, old_time) = old_slot.split_once('T').unwrap();
    click_css(&client, &format!("{css} [data-outcome=rescheduled]")).await;
    let value = |testid: &'static str| {
        let client = client.clone();
        async move {
            client
                .execute(
                    &format!("return document.querySelector('[data-testid={testid}]').value"),
                    vec![],
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(value("new-date").await, old_date, "the old date");
    assert_eq!(value("new-time").await, old_time, "the old time");
    save_screenshot(&client, &rig.display, "call-reschedule-ja.png").await;
    // Only the time changes; the row then says where the appointment went.
    let new_time = if old_time == "10:30" {
        "11:30"
    } else {
        "10:30"
    };
    client
        .execute(
            "const el = document.querySelector('[data-testid=new-time]'); \
             el.value = arguments[0]; el.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(new_time)],
        )
        .await
        .unwrap();
    click(&client, "record-reschedule").await;
    let day = chrono::NaiveDate::parse_from_str(old_date, "%Y-%m-%d").unwrap();
    let moved = format!("→ {}/{} {new_time}", day.month(), day.day());
    text_eventually(&client, "moved-to", "the new slot on the row", &moved).await;
    save_screenshot(&client, &rig.display, "call-moved-ja.png").await;
    assert_eq!(
        clinic_clock(&call_line(&rig, &id)),
        format!("{old_date}T{new_time}")
    );
    assert_eq!(call_line(&rig, &id)["moved_to"], &moved[4..]);
    // And 元に戻す puts it back in its old slot, with nothing left to send.
    text_eventually(&client, "undo-bar", "元に戻す offered", "日時変更").await;
    click(&client, "undo").await;
    text_eventually(&client, "undone", "the move taken back", "取り消しました").await;
    let html = row_html(&client, &css).await;
    assert!(!html.contains("moved-to"), "back in its slot: {html}");
    assert_eq!(clinic_clock(&call_line(&rig, &id)), old_slot);
    let waiting: Vec<Value> = run_cli(&rig.session, rig.data_dir(), &["outbox", "list", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|o| o["kind"] == "appointment_reschedule" && o["resolution"] != "withdrawn")
        .collect();
    assert!(waiting.is_empty(), "the move is not sent: {waiting:?}");

    // Issue 20, item 12: a note goes with the call (the report has a メモ column).
    click_css(&client, &format!("{css} [data-testid=script-toggle]")).await;
    type_into(&client, "call-note", "夕方に折り返し希望").await;
    click_css(&client, &format!("{css} [data-outcome=left_message]")).await;
    text_eventually(&client, "last-note", "the note on the row", "折り返し").await;
    let line: Value = run_cli(
        &rig.session,
        rig.data_dir(),
        &["calls", "--json", "--tomorrow-morning"],
    )
    .lines()
    .map(|l| serde_json::from_str::<Value>(l).unwrap())
    .find(|v| v["appointment_id"] == id.as_str())
    .unwrap();
    assert_eq!(
        line["history"].as_array().unwrap().last().unwrap()["note"],
        "夕方に折り返し希望"
    );
    client.close().await.unwrap();
}

/// The call list's line for one appointment, as `tsunagi-cli calls --json` gives it.
fn call_line(rig: &Rig, id: &str) -> Value {
    run_cli(
        &rig.session,
        rig.data_dir(),
        &["calls", "--json", "--tomorrow-morning"],
    )
    .lines()
    .map(|l| serde_json::from_str::<Value>(l).unwrap())
    .find(|v| v["appointment_id"] == id)
    .unwrap_or_else(|| panic!("{id} on the call list"))
}

/// A call line's start on the clinic's clock, `YYYY-MM-DDTHH:MM` (its `start` is RFC 3339
/// with the clinic's offset).
fn clinic_clock(line: &Value) -> String {
    line["start"].as_str().unwrap()[..16].to_owned()
}

/// Wait until the call row `css` no longer shows a status (booked again).
async fn row_booked_again(client: &Client, css: &str) {
    eventually(
        "the row booked again",
        Duration::from_secs(20),
        async || {
            let html = client
                .find(Locator::Css(css))
                .await
                .ok()?
                .html(true)
                .await
                .ok()?;
            (!html.contains("row-status")).then_some(())
        },
    )
    .await;
}

async fn row_html(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .html(true)
        .await
        .unwrap()
}

/// Issue 20, items 1, 6 and 12, as a desk meets them on a 1366×768 screen:
/// - the window fits the screen with its title bar, above the taskbar;
/// - 未連絡のみ and 明日の午前も表示 stay as set across tabs and a reload (they reset on
///   every tab switch), and a list emptied by 未連絡のみ offers tomorrow morning;
/// - 元に戻す runs out after a few seconds, and a change still waiting to be sent (the line
///   is down) is taken back in 同期 with 取り消す（送らない）: the row is booked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_a_waiting_change_is_taken_back_in_sync_and_the_list_keeps_its_filters() {
    let rig = Rig::start_on_desk_screen("take-back");
    // A clinic on CSV imports: its changes wait (for the export) whatever the line does,
    // so the one taken back below cannot be sent meanwhile (the demo takes each change
    // as soon as its 元に戻す hold ends).
    let csv = rig.data_dir().join("today.csv");
    std::fs::write(&csv, clinic_csv()).unwrap();
    run_cli(
        &rig.session,
        rig.data_dir(),
        &["import", "csv", csv.to_str().unwrap()],
    );
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;

    // Item 12: the whole window, title bar included, is inside the screen's work area.
    let x = X11::connect(&rig.display.name());
    let window = x.find_window(WINDOW_TITLE).expect("the app's window");
    let (wx, wy, ww, wh) = x.on_screen(window).expect("the window's place");
    let [left, right, top, bottom] = x.frame_extents(window).expect("a frame around it");
    let (ax, ay, aw, ah) = x.work_area().expect("the window manager's work area");
    assert!(ah < 768, "the taskbar takes its share: {ah}");
    let frame = (
        wx - left as i32,
        wy - top as i32,
        wx + (ww + right) as i32,
        wy + (wh + bottom) as i32,
    );
    assert!(
        frame.0 >= ax && frame.1 >= ay && frame.2 <= ax + aw as i32 && frame.3 <= ay + ah as i32,
        "the window {frame:?} (title bar {top} px) fits the work area {:?}",
        (ax, ay, aw, ah)
    );

    // Item 6: the filters stay as set.
    pick_staff(&client, "受付 佐々木").await;
    click(&client, "tab-calls").await;
    text_eventually(&client, "call-progress", "the call list", "連絡済").await;
    tick_box(&client, "not-reached-only").await;
    let ticked = |testid: &'static str| {
        let client = client.clone();
        async move {
            client
                .execute(
                    &format!(
                        "return document.querySelector('[data-testid={testid}]')?.checked ?? null"
                    ),
                    vec![],
                )
                .await
                .unwrap()
        }
    };
    click(&client, "tab-receipts").await;
    text_eventually(&client, "receipt-summary", "the ledger", "本日の合計").await;
    click(&client, "tab-calls").await;
    text_eventually(&client, "call-progress", "the call list", "連絡済").await;
    assert_eq!(ticked("not-reached-only").await, true, "after a tab switch");
    assert_eq!(
        ticked("include-tomorrow").await,
        false,
        "after a tab switch"
    );
    // A reload right after a tab switch comes back on that tab. The tab was saved 300 ms
    // after the switch, so a reload sooner lost it: the page came back on 予約一覧 (this
    // test failed so between 22:00 and 22:40 in Tokyo, when the two terminal commands
    // below took less than that; it failed here at once before the tab was saved at once).
    click(&client, "tab-receipts").await;
    client.refresh().await.unwrap();
    text_eventually(
        &client,
        "receipt-summary",
        "the ledger after a reload",
        "本日の合計",
    )
    .await;
    click(&client, "tab-calls").await;
    text_eventually(&client, "call-progress", "the call list", "連絡済").await;

    // Everyone on the list reached (from a terminal: the list reads the same file), the
    // list is empty, and it says what else there is.
    let listed: Vec<Value> = run_cli(&rig.session, rig.data_dir(), &["calls", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!listed.is_empty(), "patients to call");
    // After the day's last appointment the list already shows tomorrow morning by itself.
    let today = tokyo_today().format("%Y-%m-%d").to_string();
    let day_over = listed
        .iter()
        .all(|l| !l["start"].as_str().unwrap().starts_with(&today));
    for line in &listed {
        let id = line["appointment_id"].as_str().unwrap();
        run_cli(
            &rig.session,
            rig.data_dir(),
            &["call", id, "coming", "--staff", "受付 佐々木"],
        );
    }
    client.refresh().await.unwrap();
    // The window comes back on the tab it was on.
    text_eventually(&client, "call-progress", "the call list again", "連絡済").await;
    let empty = text_eventually(&client, "call-list-empty", "the empty list", "連絡済み").await;
    assert!(
        empty.contains(&format!("{}人すべて", listed.len())),
        "everyone reached, not nobody to call: {empty}"
    );
    assert_eq!(ticked("not-reached-only").await, true, "after a reload");
    save_screenshot(&client, &rig.display, "call-empty-ja.png").await;
    if day_over {
        text_eventually(&client, "day-over", "the day is over", "明日の午前").await;
        let offered = client
            .find(Locator::Css("[data-testid=offer-tomorrow]"))
            .await;
        assert!(offered.is_err(), "tomorrow is shown already");
    } else {
        click(&client, "offer-tomorrow").await;
        eventually(
            "tomorrow morning on the list",
            Duration::from_secs(20),
            async || (rows_with_a_date(&client).await > 0).then_some(()),
        )
        .await;
        assert_eq!(ticked("include-tomorrow").await, true, "the offer ticks it");
    }

    // Item 1: the line goes down; a cancellation waits to be sent.
    tick_box(&client, "include-tomorrow").await;
    untick_box(&client, "not-reached-only").await;
    rig.set_line(false);
    line_banner_shows(&client, "offline").await;
    click(&client, "tab-calls").await;
    let row = tomorrow_call_row(&client).await;
    let id = row.attr("data-id").await.unwrap().expect("row id");
    let css = format!("[data-testid=call-row][data-id=\"{id}\"]");
    click_css(&client, &format!("{css} [data-outcome=cancelled]")).await;
    text_eventually(&client, "undo-bar", "元に戻す offered", "キャンセル").await;
    let offered = Instant::now();
    eventually(
        "元に戻す to run out",
        Duration::from_secs(30),
        async || {
            client
                .find(Locator::Css("[data-testid=undo-bar]"))
                .await
                .is_err()
                .then_some(())
        },
    )
    .await;
    assert!(
        offered.elapsed() >= Duration::from_secs(5),
        "offered for a few seconds, not {:?}",
        offered.elapsed()
    );
    call_row_shows(&client, &id, "row-status").await;
    let cancel = run_cli(&rig.session, rig.data_dir(), &["outbox", "list", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|o| o["kind"] == "appointment_cancel" && o["target_id"] == id.as_str())
        .expect("the cancellation in the outbox");
    assert_eq!(cancel["state"], "pending", "{cancel}");
    let seq = cancel["seq"].as_i64().unwrap();

    // 同期: the waiting cancellation is taken back before it is sent.
    click(&client, "tab-sync").await;
    text_eventually(
        &client,
        &format!("op-{seq}-withdraw"),
        "取り消す（送らない） on the waiting change",
        "送らない",
    )
    .await;
    save_screenshot(&client, &rig.display, "sync-withdraw-ja.png").await;
    click(&client, &format!("op-{seq}-withdraw")).await;
    text_eventually(
        &client,
        &format!("op-{seq}-resolution"),
        "the change taken back",
        "取り消し（送信前）",
    )
    .await;
    // Not called sent (it read 送信済み, and was counted with what the system holds).
    text_eventually(&client, &format!("op-{seq}-state"), "not sent", "送信なし").await;
    text_eventually(&client, "sync-count-not-sent", "counted apart", "送信なし").await;
    click(&client, "tab-calls").await;
    row_booked_again(&client, &css).await;
    assert_eq!(call_line(&rig, &id)["status"], "booked");
    // Nothing of it goes when the line returns.
    rig.set_line(true);
    line_banner_gone(&client).await;
    let cancel = run_cli(&rig.session, rig.data_dir(), &["outbox", "list", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|o| o["seq"] == seq)
        .unwrap();
    assert_eq!(cancel["resolution"], "withdrawn", "{cancel}");
    assert_eq!(cancel["attempts"], 0, "never sent: {cancel}");
    client.close().await.unwrap();
}

/// A clinic's export: tomorrow morning every 10 minutes from 09:00, and today from the
/// next full hour (none when that is past 23:00).
fn clinic_csv() -> String {
    use chrono::Timelike;
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo);
    let tomorrow = now.date_naive() + chrono::Days::new(1);
    let mut csv = "日付,時刻,氏名,フリガナ,電話番号,来院理由\n".to_owned();
    let mut row = |n: usize, day: chrono::NaiveDate, h: u32, m: u32| {
        let (name, kana) = tsunagi_testkit::clinic::names(n);
        let phone = tsunagi_testkit::clinic::mobile(n);
        csv.push_str(&format!(
            "{day},{h:02}:{m:02},{name},{kana},{phone},定期受診\n"
        ));
    };
    for i in 0..8u32 {
        row(i as usize, tomorrow, 9 + i / 6, (i % 6) * 10);
    }
    for (i, h) in (now.hour() + 1..24).take(4).enumerate() {
        row(20 + i, now.date_naive(), h, 0);
    }
    csv
}

/// How many call rows carry a date (tomorrow's).
async fn rows_with_a_date(client: &Client) -> u64 {
    client
        .execute(
            "const dated = /\\d{1,2}\\/\\d{1,2} \\d\\d:\\d\\d/; \
             return [...document.querySelectorAll('[data-testid=call-row]')] \
               .filter((r) => dated.test(r.textContent)).length;",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(0)
}

/// Issue 17: a clinic whose web booking Tsunagi cannot stop (the demo here, like CSV or a
/// vendor with no API) follows the owner's card: written once in settings, opened from the
/// checklist during an outage, 「止めました」 ticks the step; once the line is back the
/// desk is reminded (the strip and a checklist step) until 「再開しました」.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_17_web_booking_is_stopped_and_reopened_by_hand_from_the_owners_card() {
    let rig = Rig::start_on_desk_screen("booking-card");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    pick_staff(&client, "受付 佐々木").await;

    // The owner writes the card once.
    click(&client, "settings-button").await;
    type_into(&client, "card-vendor", "さくら予約ネット").await;
    type_into(
        &client,
        "card-url",
        "https://admin.sakura-yoyaku.example/clinic",
    )
    .await;
    type_into(
        &client,
        "card-stop",
        // Enter between the lines, as a person types them.
        "1. 管理画面にログイン\u{E007}2. 「受付設定」→「一時停止」を押す",
    )
    .await;
    type_into(&client, "card-reopen", "「受付設定」→「再開」を押す").await;
    click(&client, "card-save").await;
    eventually("the card saved", Duration::from_secs(10), async || {
        rig.config().contains("さくら予約ネット").then_some(())
    })
    .await;
    client
        .execute(
            "document.querySelector('[data-testid=booking-card-settings]').scrollIntoView({ block: 'center' })",
            vec![],
        )
        .await
        .unwrap();
    save_screenshot(&client, &rig.display, "settings-booking-card-ja.png").await;
    click(&client, "settings-close").await;

    // The line goes: the strip says booking is still open; the checklist step opens the card.
    rig.set_line(false);
    line_banner_shows(&client, "offline").await;
    text_eventually(
        &client,
        "booking-strip",
        "booking still open",
        "Web予約を入れられます",
    )
    .await;
    // The call list loads its checklist on its own (three requests): wait for the step.
    text_eventually(
        &client,
        "checklist-stop-booking",
        "the checklist's web booking step",
        "止め方を見る",
    )
    .await;
    click(&client, "checklist-stop-booking").await;
    text_eventually(
        &client,
        "booking-card-vendor",
        "the card",
        "さくら予約ネット",
    )
    .await;
    text_eventually(
        &client,
        "booking-card-url",
        "the admin page",
        "sakura-yoyaku",
    )
    .await;
    let steps = text_eventually(&client, "booking-card-steps", "the steps", "一時停止").await;
    assert!(steps.contains("ログイン\n2."), "one step a line: {steps:?}");
    save_screen(&client, &rig.display, "booking-card-ja.png").await;
    click(&client, "booking-card-done").await;
    let stopped = text_eventually(
        &client,
        "booking-text",
        "stopped by hand",
        "予約サービスで止めてあります",
    )
    .await;
    assert!(stopped.contains("佐々木"), "{stopped}");
    booking_step_ticked(&client).await;

    // Back online: reminded, on the strip and as a checklist step.
    rig.set_line(true);
    line_banner_gone(&client).await;
    text_eventually(&client, "booking-text", "the reminder", "止めたままです").await;
    click(&client, "tab-calls").await;
    text_eventually(
        &client,
        "checklist-reopen-booking",
        "the reopen step",
        "再開する",
    )
    .await;
    save_screen(&client, &rig.display, "booking-remind-by-hand-ja.png").await;
    click(&client, "checklist-reopen-booking").await;
    text_eventually(&client, "booking-card-steps", "the reopen steps", "再開").await;
    click(&client, "booking-card-done").await;
    eventually("the reminder gone", Duration::from_secs(20), async || {
        let strip = client
            .find(Locator::Css("[data-testid=booking-strip]"))
            .await
            .is_err();
        let step = client
            .find(Locator::Css("[data-testid=checklist-reopen-booking]"))
            .await
            .is_err();
        (strip && step).then_some(())
    })
    .await;
    let status = run_cli(&rig.session, rig.data_dir(), &["booking", "status"]);
    assert!(
        status.contains("stopped by hand") && status.contains("reopened by hand"),
        "{status}"
    );
    client.close().await.unwrap();
}

/// Issue 17: on a line the OS calls metered (a tethered phone; NetworkManager's flag, from
/// a stand-in on the session's bus) the window says 従量制の回線（節約中） and what the line
/// carried since; the owner's switch in settings turns the saving off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_17_a_metered_line_is_named_with_its_bytes_and_saving_can_be_switched_off() {
    let rig = Rig::start_on_desk_screen("metered");
    let bus = tsunagi_testkit::fake_nm::session_bus(&rig.session);
    let config = rig.data_dir().join("config.toml");
    let seeded = std::fs::read_to_string(&config).unwrap();
    // The seeded config ends in its [monitor] table.
    std::fs::write(&config, format!("{seeded}metered_dbus = \"{bus}\"\n")).unwrap();
    let _nm = tsunagi_testkit::fake_nm::FakeNetworkManager::start(&bus, 1);
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    text_eventually(
        &client,
        "backup-line",
        "the metered line named",
        "従量制の回線（節約中）",
    )
    .await;
    text_eventually(&client, "frugal-bytes", "the bytes since", "切り替えてから").await;
    save_screen(&client, &rig.display, "metered-line-ja.png").await;

    click(&client, "settings-button").await;
    untick_box(&client, "frugal-toggle").await;
    eventually("saved", Duration::from_secs(10), async || {
        rig.config().contains("frugal = false").then_some(())
    })
    .await;
    click(&client, "settings-close").await;
    eventually("the saving off", Duration::from_secs(20), async || {
        client
            .find(Locator::Css("[data-testid=backup-line]"))
            .await
            .is_err()
            .then_some(())
    })
    .await;
    client.close().await.unwrap();
}

/// Issue 20: the outage morning as a receptionist sees it on a 1366×768 office laptop,
/// with the window's title bar and the taskbar: the drill's outage screen, a mis-click
/// offered back, the receipts. Whole-screen screenshots in docs/screenshots (desk-1366-*).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_the_outage_morning_on_a_1366x768_screen_with_a_title_bar() {
    let rig = Rig::start_on_desk_screen("desk-screen");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    save_screen(&client, &rig.display, "desk-1366-today-ja.png").await;
    pick_staff(&client, "受付 佐々木").await;
    click(&client, "settings-button").await;
    click(&client, "drill-start").await;
    text_eventually(&client, "line-drill", "the practice outage", "訓練").await;
    text_eventually(&client, "call-progress", "the call list", "連絡済").await;
    save_screen(&client, &rig.display, "desk-1366-drill-outage-ja.png").await;
    tick_box(&client, "include-tomorrow").await;
    let row = tomorrow_call_row(&client).await;
    let id = row.attr("data-id").await.unwrap().expect("row id");
    let css = format!("[data-testid=call-row][data-id=\"{id}\"]");
    click_css(&client, &format!("{css} [data-outcome=cancelled]")).await;
    text_eventually(&client, "undo-bar", "元に戻す offered", "キャンセル").await;
    save_screen(&client, &rig.display, "desk-1366-undo-ja.png").await;
    click(&client, "undo").await;
    text_eventually(&client, "undone", "taken back", "取り消しました").await;
    click(&client, "tab-receipts").await;
    text_eventually(&client, "receipt-summary", "the ledger", "本日の合計").await;
    save_screen(&client, &rig.display, "desk-1366-receipts-ja.png").await;
    click(&client, "drill-end").await;
    text_eventually(&client, "drill-ended", "the drill ended", "記録").await;
    client.close().await.unwrap();
}

/// Issue 18: when the line drops, the window opens on the call list. On a 1366×768 or a
/// 1280×800 laptop screen (title bar and taskbar included) the banner, one line of
/// diagnosis (the first thing to try, 「詳しく」 for the rest) and at least the first
/// three patients are on screen without scrolling, the first patient not yet reached has
/// the keyboard, and the checklist stays beside the list, its text no smaller than before.
async fn an_outage_opens_on_the_call_list(rig: Rig, size: &str) {
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    // Tomorrow morning too, so there are patients to call at any hour the test runs.
    click(&client, "tab-calls").await;
    tick_box(&client, "include-tomorrow").await;
    eventually(
        "three patients to call",
        Duration::from_secs(20),
        async || {
            (attrs(&client, "[data-testid=call-row]", "data-id")
                .await
                .len()
                >= 3)
                .then_some(())
        },
    )
    .await;
    // The desk is on another tab when the line goes.
    click(&client, "tab-receipts").await;
    text_eventually(&client, "receipt-summary", "the ledger", "本日の合計").await;

    rig.set_line(false);
    line_banner_shows(&client, "offline").await;
    let first_step = text_eventually(
        &client,
        "diagnosis-line",
        "the first thing to try",
        "ルーター",
    )
    .await;
    assert!(first_step.contains("詳しく"), "{first_step}");
    let screen = eventually(
        "the call list in view, its first patient in focus",
        Duration::from_secs(10),
        async || {
            let v = client
                .execute(tsunagi_testkit::page::OUTAGE_SCREEN, vec![])
                .await
                .ok()?;
            (v["tab"] == "tab-calls" && v["visible"] == 3 && v["focused"] == true).then_some(v)
        },
    )
    .await;
    assert_eq!(
        screen["beside"], true,
        "the checklist beside the list: {screen}"
    );
    assert_eq!(
        screen["diagnosis"], false,
        "the whole diagnosis waits for 詳しく: {screen}"
    );
    // 1.1rem, as before the outage screen changed.
    assert!(
        screen["namePx"].as_f64().unwrap() >= 17.5,
        "patient names no smaller: {screen}"
    );
    save_screen(&client, &rig.display, &format!("outage-{size}-ja.png")).await;

    // 「詳しく」 opens the rest: every step and what was checked.
    click(&client, "diagnose").await;
    text_eventually(&client, "diagnosis-steps", "the steps to try", "テザリング").await;
    text_eventually(&client, "diagnosis-checks", "what was checked", "DNS").await;

    // The same screen in English.
    click(&client, "settings-button").await;
    click(&client, "language-en").await;
    click(&client, "settings-close").await;
    click(&client, "diagnose").await;
    let line = eventually("the English line", Duration::from_secs(10), async || {
        let t = text_of(&client, "diagnosis-line").await?;
        t.contains("Details").then_some(t)
    })
    .await;
    assert!(!line.contains("ルーター"), "{line}");
    save_screen(&client, &rig.display, &format!("outage-{size}-en.png")).await;
    // The call list's script is worded by the core: in English now too (it stayed
    // Japanese until the list was loaded again).
    click_css(
        &client,
        "[data-testid=call-row] [data-testid=script-toggle]",
    )
    .await;
    text_eventually(&client, "call-script", "the English script", "front desk").await;

    rig.set_line(true);
    line_banner_gone(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_an_outage_opens_on_the_call_list_on_a_1366x768_screen() {
    an_outage_opens_on_the_call_list(Rig::start_on_desk_screen("outage-1366"), "1366").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_18_an_outage_opens_on_the_call_list_on_a_1280x800_screen() {
    let rig = Rig::start_on("outage-1280", Display::laptop_screen());
    an_outage_opens_on_the_call_list(rig, "1280").await;
}

/// Issue 20, item 7: 設定 opened with the keyboard on the language choice, so one ↓
/// switched the app to English and saved it; one click on CSV switched the data source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_settings_cannot_be_changed_by_a_stray_key_or_click() {
    let rig = Rig::start_on_desk_screen("settings-safe");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    click(&client, "settings-button").await;
    let focused = eventually("the dialog's focus", Duration::from_secs(10), async || {
        let f = client
            .execute(
                "return document.activeElement?.getAttribute('data-testid')",
                vec![],
            )
            .await
            .ok()?;
        f.as_str().map(str::to_owned)
    })
    .await;
    assert_eq!(
        focused, "settings-title",
        "the keyboard starts on the title"
    );
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E015}")
        .await
        .unwrap();
    let lang = client
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang, json!("ja"), "a stray ↓ changed nothing");

    // The IT helper's items sit apart.
    let it = text_eventually(&client, "it-settings", "the IT section", "IT担当者向け").await;
    assert!(it.contains("タイムゾーン"), "{it}");

    // One click on CSV asks before switching.
    click(&client, "source-csv").await;
    let asked = text_eventually(&client, "switch-waiting", "the question", "切り替えますか").await;
    assert!(asked.contains("CSV"), "{asked}");
    // While it asks, the demo clinic is still the one marked: nothing has switched.
    let marked = client
        .execute(
            "return ['demo', 'csv'].map((k) => \
             document.querySelector(`[data-testid=source-${k}]`).checked)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(marked, json!([true, false]), "demo, csv");
    save_screenshot(&client, &rig.display, "settings-switch-ask-ja.png").await;
    click(&client, "switch-cancel").await;
    let status = run_cli(&rig.session, rig.data_dir(), &["status"]);
    assert!(
        status.contains("source:     demo"),
        "still the demo clinic: {status}"
    );
    let demo_checked = client
        .execute(
            "return document.querySelector('[data-testid=source-demo]').checked",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(demo_checked, json!(true));
    client.close().await.unwrap();
}

/// A booking vendor's export Tsunagi has never seen (issue 19): the date and time in one
/// cell, two phone columns, a 受付No. `day` is `YYYY/MM/DD`.
fn vendor_export(day: &str, rows: &[(&str, &str, &str)]) -> String {
    let mut csv = String::from("受付No,診察日時,患者氏名,自宅TEL,携帯TEL,診療科,メモ\n");
    for (id, time, name) in rows {
        csv.push_str(&format!(
            "{id},{day} {time},{name},03-3456-7890,090-1234-5678,内科,\n"
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_19_a_vendor_export_is_mapped_on_screen_once_and_read_by_its_header_next_time() {
    let rig = Rig::start_on_desk_screen("csv-mapping");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    let files = tempfile::tempdir().unwrap();
    let day = tokyo_today().format("%Y/%m/%d").to_string();
    let first = files.path().join("予約一覧.csv");
    let text = vendor_export(
        &day,
        &[
            ("R-101", "9:00", "山田 太郎"),
            ("R-102", "9:30", "鈴木 花子"),
            ("R-103", "10:00", "佐藤 健一"),
        ],
    );
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    std::fs::write(&first, &sjis).unwrap();

    click(&client, "settings-button").await;
    type_into(&client, "csv-file", &first.display().to_string()).await;
    let screen = text_eventually(&client, "csv-mapping", "the mapping screen", "列を教えて").await;
    assert!(
        screen.contains("鈴木 花子"),
        "the first rows are shown: {screen}"
    );
    let needs = text_of(&client, "map-needs").await.unwrap_or_default();
    assert!(needs.contains("氏名"), "{needs}");
    let import = client
        .find(Locator::Css("[data-testid=map-import]"))
        .await
        .unwrap();
    assert!(
        import.attr("disabled").await.unwrap().is_some(),
        "no import before the date and the name are known"
    );
    for (column, field) in [
        (0, "id"),
        (1, "date_time"),
        (2, "name"),
        (3, "phone"),
        (4, "phone"),
    ] {
        // WebKitWebDriver cannot click a <select>'s native popup: the choice is made as
        // the popup makes it, by the value and a change event.
        let chosen = client
            .execute(
                "const el = document.querySelector(`[data-testid=map-column-${arguments[0]}]`); \
                 el.value = arguments[1]; el.dispatchEvent(new Event('change', { bubbles: true })); \
                 return el.value;",
                vec![json!(column), json!(field)],
            )
            .await
            .unwrap();
        assert_eq!(chosen, json!(field), "column {column} offers {field}");
    }
    eventually(
        "the mapping complete",
        Duration::from_secs(10),
        async || text_of(&client, "map-needs").await.is_none().then_some(()),
    )
    .await;
    let name = client
        .find(Locator::Css("[data-testid=map-name]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("予約一覧"), "named after the file");
    // Choosing in the last rows scrolled the dialog: the picture starts at its title.
    client
        .execute(
            "document.querySelector('[data-testid=csv-mapping]').scrollIntoView({ block: 'start' })",
            vec![],
        )
        .await
        .unwrap();
    save_screenshot(&client, &rig.display, "csv-mapping-ja.png").await;
    click(&client, "map-import").await;
    let done = text_eventually(
        &client,
        "import-outcome",
        "the import",
        "3件の予約を取り込みました",
    )
    .await;
    assert!(done.contains("「予約一覧」を保存しました"), "{done}");
    click(&client, "settings-close").await;
    eventually("the imported day", Duration::from_secs(20), async || {
        (rows(&client).await == 3).then_some(())
    })
    .await;

    // The next export, in UTF-8, is read by its header line alone: no question asked.
    let second = files.path().join("予約一覧-2.csv");
    std::fs::write(
        &second,
        vendor_export(
            &day,
            &[
                ("R-101", "11:00", "山田 太郎"),
                ("R-104", "11:30", "田中 一郎"),
            ],
        ),
    )
    .unwrap();
    click(&client, "settings-button").await;
    type_into(&client, "csv-file", &second.display().to_string()).await;
    let done = text_eventually(
        &client,
        "import-outcome",
        "the second import",
        "2件の予約を取り込みました",
    )
    .await;
    assert!(done.contains("「予約一覧」で読み取りました"), "{done}");
    assert!(
        text_of(&client, "csv-mapping").await.is_none(),
        "no mapping screen the second time"
    );
    let listed = run_cli(&rig.session, rig.data_dir(), &["import", "mappings"]);
    assert!(
        listed.contains("予約一覧") && listed.contains("date_time=診察日時"),
        "{listed}"
    );

    // The booking system saves each morning's export in a folder: watched from now on,
    // through the mapping just saved.
    let exports = tempfile::tempdir().unwrap();
    type_into(
        &client,
        "folder-path",
        &exports.path().display().to_string(),
    )
    .await;
    let picked = client
        .execute(
            "const el = document.querySelector('[data-testid=folder-mapping]'); \
             el.value = arguments[0]; el.dispatchEvent(new Event('change', { bubbles: true })); \
             return el.value;",
            vec![json!("予約一覧")],
        )
        .await
        .unwrap();
    assert_eq!(picked, json!("予約一覧"), "the saved mapping is offered");
    click(&client, "folder-save").await;
    text_eventually(&client, "folder-state", "the folder watched", "監視中").await;
    client
        .execute(
            "document.querySelector('[data-testid=csv-folder]').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    save_screenshot(&client, &rig.display, "csv-folder-ja.png").await;
    click(&client, "settings-close").await;
    let morning = vendor_export(
        &day,
        &[
            ("R-201", "9:00", "山田 太郎"),
            ("R-202", "9:15", "鈴木 花子"),
            ("R-203", "9:30", "佐藤 健一"),
            ("R-204", "9:45", "高橋 秀樹"),
        ],
    );
    let (morning, _, _) = encoding_rs::SHIFT_JIS.encode(&morning);
    std::fs::write(exports.path().join("export_morning.csv"), &morning).unwrap();
    eventually(
        "the folder's file on screen",
        Duration::from_secs(30),
        async || (rows(&client).await == 4).then_some(()),
    )
    .await;
    let from = text_of(&client, "folder-file").await.unwrap_or_default();
    assert!(from.contains("export_morning.csv"), "{from}");
    save_screenshot(&client, &rig.display, "csv-folder-day-ja.png").await;
    let bad = format!(
        "{}R-9,明日,田中 一郎,,,,\n",
        vendor_export(&day, &[("R-205", "10:00", "伊藤 純")])
    );
    std::fs::write(exports.path().join("export_noon.csv"), bad).unwrap();
    let refused = text_eventually(
        &client,
        "folder-refused",
        "the refused file",
        "export_noon.csv",
    )
    .await;
    assert!(
        refused.contains("3行目") && refused.contains("日時が読めません"),
        "{refused}"
    );
    save_screenshot(&client, &rig.display, "csv-folder-refused-ja.png").await;
    assert_eq!(rows(&client).await, 4, "the refused file changed nothing");
    click(&client, "settings-button").await;

    // Another vendor's file, in English; staff think better of it: nothing is imported.
    click(&client, "language-en").await;
    let other = files.path().join("bookings.csv");
    std::fs::write(
        &other,
        format!("Ref,Visit,Patient,Mobile\nB-1,{day} 13:00,Kenji Mori,080-1111-2222\n"),
    )
    .unwrap();
    type_into(&client, "csv-file", &other.display().to_string()).await;
    text_eventually(
        &client,
        "csv-mapping",
        "the English mapping screen",
        "Which column",
    )
    .await;
    let needs = text_eventually(&client, "map-needs", "what is missing", "name").await;
    assert!(needs.contains("date and time or date"), "{needs}");
    click(&client, "map-column-1").await;
    save_screenshot(&client, &rig.display, "csv-mapping-en.png").await;
    click(&client, "map-cancel").await;
    assert!(text_of(&client, "csv-mapping").await.is_none());
    click(&client, "settings-close").await;
    assert_eq!(rows(&client).await, 4, "the cancelled file changed nothing");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_19_orca_is_set_up_in_the_settings_and_the_sync_tab_says_what_goes_there() {
    use tsunagi_testkit::orca::{OrcaAppointment, OrcaPatient, OrcaStandin, PASSWORD, USER};
    let orca = OrcaStandin::start_weborca();
    let today = tokyo_today().format("%Y-%m-%d").to_string();
    for (n, (name, kana, time)) in [
        ("日医　太郎", "ニチイ　タロウ", "09:00:00"),
        ("鈴木　花子", "スズキ　ハナコ", "09:30:00"),
        ("佐藤　健一", "サトウ　ケンイチ", "10:00:00"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("{:05}", n + 1);
        orca.add_patient(OrcaPatient {
            id: id.clone(),
            name: name.into(),
            kana: kana.into(),
            phone1: Some(format!("03-3333-000{n}")),
            phone2: None,
        });
        orca.add_appointment(OrcaAppointment {
            id: "01".into(),
            patient: id,
            date: today.clone(),
            time: time.into(),
            physician: "10001".into(),
            department: "内科".into(),
            visited: false,
            note: String::new(),
        });
    }
    let rig = Rig::start_on_desk_screen("orca-settings");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    click(&client, "settings-button").await;
    click(&client, "source-orca").await;
    type_into(&client, "orca-url", &orca.url()).await;
    type_into(&client, "orca-user", USER).await;
    type_into(&client, "orca-password", "wrong").await;
    click(&client, "orca-save").await;
    let refused = text_eventually(&client, "source-outcome", "the refusal", "認証").await;
    assert!(!refused.contains("接続できました"), "{refused}");
    client
        .find(Locator::Css("[data-testid=orca-password]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    type_into(&client, "orca-password", PASSWORD).await;
    click(&client, "orca-save").await;
    text_eventually(
        &client,
        "source-outcome",
        "the connection",
        "接続できました（3件の予約）",
    )
    .await;
    client
        .execute(
            "document.querySelector('[data-testid=orca-form]').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    save_screenshot(&client, &rig.display, "settings-orca-ja.png").await;
    click(&client, "settings-close").await;
    eventually("ORCA's day", Duration::from_secs(20), async || {
        (rows(&client).await == 3).then_some(())
    })
    .await;
    let listed = run_cli(&rig.session, rig.data_dir(), &["today"]);
    assert!(
        listed.contains("鈴木　花子") && listed.contains("03-3333-0001"),
        "{listed}"
    );

    // ORCA refuses the next pull (a doctor code it no longer has): its own words are shown,
    // and the day stays.
    orca.force("appointlstv2", Some("12"));
    click(&client, "sync-button").await;
    let reason = text_eventually(
        &client,
        "orca-reason",
        "ORCA's reason",
        "ドクターが存在しません",
    )
    .await;
    assert!(reason.contains("（12）"), "{reason}");
    assert_eq!(rows(&client).await, 3, "the day stays");
    save_screenshot(&client, &rig.display, "orca-refused-ja.png").await;
    orca.force("appointlstv2", None);
    click(&client, "tab-sync").await;
    let note = text_eventually(&client, "sync-orca-note", "the ORCA note", "置き場所がない").await;
    assert!(note.contains("キャンセルと日時変更"), "{note}");
    save_screenshot(&client, &rig.display, "sync-orca-ja.png").await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_taken_in_the_window_add_up_and_bad_amounts_are_named() {
    let rig = Rig::start_on_desk_screen("receipts");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    click(&client, "tab-receipts").await;

    // Issue 20, item 5: the method is chosen for every receipt; none is assumed.
    type_into(&client, "amount", "1000").await;
    click(&client, "add-receipt").await;
    text_eventually(
        &client,
        "receipt-problem",
        "the method asked for",
        "支払方法",
    )
    .await;
    assert_eq!(
        client
            .find_all(Locator::Css("[data-testid=receipt-row]"))
            .await
            .unwrap()
            .len(),
        0,
        "nothing issued without a method"
    );

    let field = client
        .find(Locator::Css("[data-testid=amount]"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys("０").await.unwrap();
    click(&client, "method-cash").await;
    click(&client, "add-receipt").await;
    text_eventually(&client, "receipt-problem", "the refusal", "0円").await;

    for (n, (amount, name)) in [("３，０００", "山田 太郎"), ("1200", "髙橋 美咲")]
        .into_iter()
        .enumerate()
    {
        let field = client
            .find(Locator::Css("[data-testid=amount]"))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(amount).await.unwrap();
        type_into(&client, "receipt-name", name).await;
        click(&client, "method-cash").await;
        click(&client, "add-receipt").await;
        // The form empties itself once a receipt is taken: typing the next one before
        // that would have it emptied under the typist (seen once as a 3,000 total).
        eventually(
            "the receipt in the ledger",
            Duration::from_secs(20),
            async || {
                let rows = client
                    .find_all(Locator::Css("[data-testid=receipt-row]"))
                    .await
                    .ok()?;
                (rows.len() == n + 1).then_some(())
            },
        )
        .await;
    }
    text_eventually(&client, "receipt-total", "the day's total", "4,200").await;
    save_screenshot(&client, &rig.display, "receipts-ja.png").await;

    // Issue 20, item 4: under Xvfb with compositing off, a receipt issued right after a
    // native dropdown stayed unpainted until the window was resized. The patient is now
    // found by kana in a list of the page's own (no native dropdown), the method is a
    // button, and the confirmation and the new row are on the X screen at once.
    let field = client
        .find(Locator::Css("[data-testid=amount]"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys("800").await.unwrap();
    // Today's cancelled patient is not offered (issue 20, item 12).
    let cancelled: Value = run_cli(&rig.session, rig.data_dir(), &["today", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|a| a["status"] == "cancelled")
        .expect("the demo day has a cancellation");
    let cancelled_name = cancelled["patient_name"].as_str().unwrap().to_owned();
    // By kana (all of it typeable; WebKitWebDriver drops characters such as 𠮷).
    let typed = cancelled["patient_kana"]
        .as_str()
        .unwrap_or(&cancelled_name)
        .to_owned();
    type_into(&client, "receipt-name", &typed).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let offered = client
        .find(Locator::Css("[data-testid=receipt-suggest]"))
        .await;
    if let Ok(list) = offered {
        let text = list.text().await.unwrap_or_default();
        assert!(
            !text.contains(&cancelled_name),
            "cancelled patients are not offered: {text}"
        );
    }
    client
        .find(Locator::Css("[data-testid=receipt-name]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    type_into(&client, "receipt-name", "やま").await;
    text_eventually(
        &client,
        "receipt-suggest",
        "today's patients by kana",
        "ヤマ",
    )
    .await;
    click(&client, "receipt-suggestion").await;
    text_eventually(&client, "receipt-picked", "picked from today", "本日").await;
    click(&client, "method-card").await;
    click(&client, "add-receipt").await;
    let issued = text_eventually(
        &client,
        "receipt-issued",
        "the confirmation",
        "発行しました",
    )
    .await;
    assert!(
        painted_at_once(&client, &rig.display, "receipt-issued").await,
        "「{issued}」 is on the screen, not only in the page"
    );
    // A second press of 発行 for the same payment asks first.
    type_into(&client, "amount", "1200").await;
    type_into(&client, "receipt-name", "髙橋 美咲").await;
    click(&client, "method-cash").await;
    click(&client, "add-receipt").await;
    text_eventually(&client, "receipt-repeat", "the repeat question", "もう一枚").await;
    save_screenshot(&client, &rig.display, "receipt-repeat-ja.png").await;
    click(&client, "receipt-repeat-no").await;
    let rows = client
        .find_all(Locator::Css("[data-testid=receipt-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "the repeat was not issued");

    let summary: Value = serde_json::from_str(&run_cli(
        &rig.session,
        rig.data_dir(),
        &["receipt", "summary", "--json"],
    ))
    .unwrap();
    assert_eq!(summary["total"], 5000);
    client.close().await.unwrap();
}

/// Issue 5's drill, start to end in the window: the call list comes up by itself, three
/// outcomes (one from the keyboard), a cash and a card receipt, one voided, the totals,
/// the printed receipt and report, and nothing of it queued for the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_drill_in_the_window_is_practice_that_never_reaches_the_outbox() {
    let rig = Rig::start_on_desk_screen("drill");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    let queued_before = run_cli(&rig.session, rig.data_dir(), &["outbox", "list", "--json"]);

    click(&client, "settings-button").await;
    click(&client, "drill-start").await;
    text_eventually(&client, "drill-banner", "the drill banner", "訓練").await;
    // Issue 20, item 11: the drill shows what a real outage shows (the red banner, the
    // diagnosis with the first things to try), marked 訓練, so practice is the morning.
    text_eventually(
        &client,
        "line-drill",
        "the banner marked as a drill",
        "訓練",
    )
    .await;
    let banner = client
        .find(Locator::Css("[data-testid=line-banner]"))
        .await
        .unwrap();
    assert_eq!(
        banner.attr("data-state").await.unwrap().as_deref(),
        Some("offline")
    );
    // Issue 18: the first thing to try on one line, the rest behind 「詳しく」.
    text_eventually(
        &client,
        "diagnosis-line",
        "the first thing to try",
        "ルーター",
    )
    .await;
    click(&client, "diagnose").await;
    text_eventually(&client, "diagnosis-drill", "the diagnosis, marked", "訓練").await;
    let steps = text_eventually(&client, "diagnosis-steps", "the steps to try", "ルーター").await;
    assert!(!steps.is_empty());
    // The outage routine opens by itself: the call list with its checklist.
    text_eventually(&client, "call-progress", "the call list", "連絡済").await;
    text_eventually(&client, "checklist", "the checklist", "予備回線").await;
    tick_box(&client, "include-tomorrow").await;
    pick_staff(&client, "受付 佐々木").await;
    // Tomorrow morning's last four: today's rows slip off the list as their time passes
    // (it starts half an hour ago), tomorrow's stay whatever the hour.
    let ids = eventually(
        "four patients to call",
        Duration::from_secs(20),
        async || {
            let ids = attrs(&client, "[data-testid=call-row]", "data-id").await;
            (ids.len() >= 8).then(|| ids[ids.len() - 4..].to_vec())
        },
    )
    .await;
    let row = |id: &str| format!("[data-testid=call-row][data-id=\"{id}\"]");

    click_css(
        &client,
        &format!("{} [data-outcome=cancelled]", row(&ids[0])),
    )
    .await;
    text_eventually(&client, "call-progress", "the first outcome", "1/").await;
    // The second from the keyboard: the row in focus, 4 = 不在 (no answer).
    client
        .find(Locator::Css(&row(&ids[1])))
        .await
        .unwrap()
        .send_keys("4")
        .await
        .unwrap();
    call_row_shows(&client, &ids[1], "不在").await;
    click_css(&client, &format!("{} [data-outcome=coming]", row(&ids[2]))).await;
    text_eventually(&client, "call-progress", "the third outcome", "2/").await;
    // A patient at the desk is checked in (来院): booked for tomorrow, so asked first.
    click_css(&client, &format!("{} [data-testid=arrive]", row(&ids[3]))).await;
    text_eventually(&client, "call-ask", "the other-day question", "今日の来院").await;
    click(&client, "call-ask-yes").await;
    text_eventually(&client, "call-progress", "the check-in", "3/").await;
    text_eventually(&client, "arrived", "the check-in time", "来院").await;
    // The call script, filled in for this patient.
    click_css(
        &client,
        &format!("{} [data-testid=script-toggle]", row(&ids[2])),
    )
    .await;
    let script = text_eventually(&client, "call-script", "the call script", "様").await;
    assert!(
        script.contains("さくら通り内科クリニック"),
        "the clinic's name: {script}"
    );
    save_screenshot(&client, &rig.display, "drill-calls-ja.png").await;

    // Receipts: cash for a patient picked from the schedule, card for a typed name.
    click(&client, "tab-receipts").await;
    let amount = client
        .find(Locator::Css("[data-testid=amount]"))
        .await
        .unwrap();
    amount.send_keys("3,000").await.unwrap();
    // A patient picked from today's list (found by a letter of their kana).
    type_into(&client, "receipt-name", "ア").await;
    text_eventually(&client, "receipt-suggest", "today's patients", "ア").await;
    click(&client, "receipt-suggestion").await;
    text_eventually(&client, "receipt-picked", "picked from today", "本日").await;
    click(&client, "method-cash").await;
    click(&client, "add-receipt").await;
    text_eventually(&client, "receipt-total", "the cash receipt", "3,000").await;
    let amount = client
        .find(Locator::Css("[data-testid=amount]"))
        .await
        .unwrap();
    amount.send_keys("1500").await.unwrap();
    click(&client, "method-card").await;
    type_into(&client, "receipt-name", "髙橋 美咲").await;
    click(&client, "add-receipt").await;
    text_eventually(&client, "receipt-total", "both receipts", "4,500").await;
    // Issue 20, item 5: the card is not carried over to the next patient.
    let pressed = client
        .find_all(Locator::Css("[data-testid^=method-][aria-pressed=true]"))
        .await
        .unwrap();
    assert!(
        pressed.is_empty(),
        "no method is still chosen after a receipt"
    );
    let numbers = attrs(&client, "[data-testid=receipt-row]", "data-number").await;
    assert_eq!(numbers.len(), 2, "{numbers:?}");
    assert!(
        numbers.iter().all(|n| n.contains("-T")),
        "drill numbers: {numbers:?}"
    );
    let card = format!("[data-testid=receipt-row][data-number=\"{}\"]", numbers[1]);
    click_css(&client, &format!("{card} [data-testid=void-receipt]")).await;
    // Issue 20, item 8: 取り消す without a reason used to look pressable and do nothing.
    // It says what is missing and puts the keyboard in the reason field.
    click(&client, "void-confirm").await;
    text_eventually(&client, "void-problem", "what is missing", "理由").await;
    let focused = client
        .execute(
            "return document.activeElement?.getAttribute('data-testid')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        focused,
        json!("void-reason"),
        "the reason field has the keyboard"
    );
    type_into(&client, "void-reason", "金額の誤り").await;
    click(&client, "void-confirm").await;
    let total = text_eventually(&client, "receipt-summary", "the void", "取消 1件").await;
    assert!(
        total.contains("¥3,000"),
        "cash only after the void: {total}"
    );
    // The void reads as it prints (-¥1,500), written by core, not by the window's own rule.
    text_eventually(&client, "receipts", "the void's amount", "-¥1,500").await;
    let after = attrs(&client, "[data-testid=receipt-row]", "data-number").await;
    assert!(
        after.contains(&format!("{}-V", numbers[1])),
        "the void is named after the receipt it voids: {after:?}"
    );
    save_screenshot(&client, &rig.display, "drill-receipts-ja.png").await;

    // The 仮領収書 of the cash payment, as it prints.
    let cash = format!("[data-testid=receipt-row][data-number=\"{}\"]", numbers[0]);
    click_css(&client, &format!("{cash} [data-testid=print-receipt]")).await;
    let page = text_eventually(&client, "print-area", "the receipt to print", "仮領収書").await;
    assert!(page.contains("¥3,000") && page.contains("訓練"), "{page}");
    save_screenshot(&client, &rig.display, "receipt-print-ja.png").await;
    click(&client, "print-close").await;

    // End the drill: it is archived as a report.
    click(&client, "drill-end").await;
    text_eventually(&client, "drill-ended", "the drill to end", "記録").await;
    let kinds = eventually("the drill's report", Duration::from_secs(20), async || {
        let kinds = attrs(&client, "[data-testid=report-row]", "data-kind").await;
        (!kinds.is_empty()).then_some(kinds)
    })
    .await;
    assert_eq!(kinds[0], "drill");
    click(&client, "open-report").await;
    let report = text_eventually(&client, "print-area", "the report", "訓練記録").await;
    for expected in ["不在", "キャンセル", "来院予定", "金額の誤り", "¥3,000"] {
        assert!(
            report.contains(expected),
            "{expected} in the report: {report}"
        );
    }
    save_screenshot(&client, &rig.display, "report-drill-ja.png").await;
    click(&client, "print-close").await;
    assert!(
        text_of(&client, "drill-banner").await.is_none(),
        "no 訓練 after the drill"
    );

    // Nothing of the drill reached the outbox, the real ledger or the real call list.
    assert_eq!(
        run_cli(&rig.session, rig.data_dir(), &["outbox", "list", "--json"]),
        queued_before
    );
    assert_eq!(
        run_cli(&rig.session, rig.data_dir(), &["receipt", "list", "--json"]),
        ""
    );
    let reports: Vec<Value> = run_cli(&rig.session, rig.data_dir(), &["report", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Two receipts and a void: counted apart (issue 20, item 8).
    assert_eq!(
        (
            reports[0]["calls"].as_u64(),
            reports[0]["receipts"].as_u64(),
            reports[0]["voids"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    let drilled_in = rig
        .cli_today_json()
        .into_iter()
        .chain(
            run_cli(
                &rig.session,
                rig.data_dir(),
                &["calls", "--json", "--tomorrow-morning"],
            )
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        )
        .filter(|v| v["id"] == ids[3].as_str() || v["appointment_id"] == ids[3].as_str())
        .any(|v| v["status"] == "arrived" || !v["arrived_at"].is_null());
    assert!(
        !drilled_in,
        "the drill's check-in left the mirror as it was"
    );
    client.close().await.unwrap();
}

/// The downtime sheet from the window: today's schedule with phones, saved to the folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_downtime_sheet_opens_for_printing_and_saves_to_the_folder() {
    let rig = Rig::start("downtime-sheet");
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;
    eventually("the day's rows", Duration::from_secs(20), async || {
        (rows(&client).await > 0).then_some(())
    })
    .await;
    click(&client, "downtime-sheet").await;
    let page = text_eventually(&client, "print-area", "the sheet", "ダウンタイム用予定表").await;
    let first = rig.cli_today_json().into_iter().next().expect("a demo day");
    let name = first["patient_name"].as_str().unwrap();
    assert!(page.contains(name), "{name} on the sheet");
    save_screenshot(&client, &rig.display, "downtime-sheet-ja.png").await;
    click(&client, "save-sheet").await;
    let saved = text_eventually(&client, "sheet-saved", "the saved path", "downtime-").await;
    let path = saved.split('：').nth(1).expect("a path").trim().to_owned();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains(name));
    client.close().await.unwrap();
}

/// Issue 6 end to end: the desk's line to the clinic's FHIR server (Helios, reached at a
/// public-looking address through a network namespace) is cut; outcomes and a receipt are
/// recorded in the window; the line is restored and, with nobody pressing anything, the
/// outbox drains: the 同期 tab shows every change sent and the incident reconciled, and
/// the server holds each one once. Needs root for the namespaces (CI runs as root).
#[test]
fn an_outage_worked_in_the_window_reaches_the_server_by_itself_when_the_line_returns() {
    use tsunagi_testkit::netns::{Network, PUBLIC};
    tsunagi_testkit::netns::require_root();
    let session = Session::start();
    let display = Display::start();
    let net = Network::new(false);
    let _endpoint = HttpEndpoint::serve(net.listen_tcp(&format!("{PUBLIC}:80")));
    let _dns = DnsServer::serve(net.bind_udp(&format!("{PUBLIC}:53")), PUBLIC);
    // Web booking's free slots start in the next minutes of today (issue 17).
    tsunagi_testkit::clear_of_midnight(Duration::from_secs(300));
    let hfs = Hfs::start();
    // Tomorrow morning's patients: on the call list whatever the hour the test runs.
    let tomorrow = tokyo_today().succ_opt().unwrap();
    let day = clinic_day(tomorrow, 30, "e");
    hfs.put_all(&day.resources());
    hfs.put(&schedule("esched"));
    let slots: Vec<String> = (0..4)
        .map(|i| {
            let id = format!("es{i}");
            let start = chrono::Utc::now() + chrono::Duration::seconds(120 + 10 * i);
            hfs.put(&slot(&id, "esched", start, "free"));
            id
        })
        .collect();
    let slot_status = |id: &str| hfs.get(&format!("Slot/{id}"))["status"].clone();
    let _upstream =
        FaultProxy::start_on(net.listen_tcp(&format!("{PUBLIC}:8080")), &hfs.base_url());

    let data = tempfile::Builder::new()
        .prefix("tsunagi-e2e-sync-")
        .tempdir()
        .unwrap();
    std::fs::write(
        data.path().join("config.toml"),
        format!(
            "device_id = \"sync-e2e\"\nlanguage = \"ja\"\nautostart = false\n\
             [source]\nkind = \"fhir\"\n\
             [source.fhir]\nbase_url = \"http://{PUBLIC}:8080\"\nauth = \"none\"\n\
             allow_plain_http = true\ntimeout_secs = 5\n\
             [monitor]\nendpoints = [{{ url = \"http://{PUBLIC}/connect.txt\", expect = \"{CONNECT_BODY}\" }}]\n\
             dns_name = \"probe.test\"\ndns_servers = [\"{PUBLIC}\"]\ngateway = \"{}\"\n",
            net.primary.gateway
        ),
    )
    .unwrap();
    let (mut driver, port) = start_driver(&session, &display, "sync-e2e", Some(&net.desk));
    let data_arg = data.path().display().to_string();
    let cleanup = scopeguard(|| {
        driver.stop(Duration::from_secs(10));
        stop_processes_with_arg(&data_arg);
    });

    // The WebDriver client lives in the desk's namespace too (the driver listens there).
    net.within_desk(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut caps = serde_json::Map::new();
            caps.insert("browserName".into(), json!("wry"));
            caps.insert(
                "tauri:options".into(),
                json!({ "application": APP, "args": ["--data-dir", data.path()] }),
            );
            let client = ClientBuilder::native()
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .expect("a WebDriver session with the app");
            text_eventually(&client, "appointment-count", "the day to load", "件").await;
            // A drill is running when the real outage comes (issue 14: it must not swallow it).
            click(&client, "settings-button").await;
            text_eventually(&client, "drill-start", "the settings", "訓練").await;
            click_js(&client, "drill-start").await;
            text_eventually(&client, "drill-banner", "the drill banner", "訓練").await;
            click(&client, "tab-calls").await;
            tick_box(&client, "include-tomorrow").await;
            pick_staff(&client, "受付 佐々木").await;
            let ids = eventually("patients to call", Duration::from_secs(40), async || {
                let ids = attrs(&client, "[data-testid=call-row]", "data-id").await;
                (ids.len() >= 3).then_some(ids)
            })
            .await;

            // The line goes.
            net.set_link(&net.primary, false);
            line_banner_shows(&client, "offline").await;
            // The outage ended the drill at once: the screen says so, and what follows is real.
            let ended = text_eventually(
                &client,
                "drill-ended",
                "the drill ended by the outage",
                "実際の回線障害",
            )
            .await;
            assert!(ended.contains("本番"), "{ended}");
            assert!(
                client
                    .find(Locator::Css("[data-testid=drill-banner]"))
                    .await
                    .is_err(),
                "no drill banner any more"
            );
            save_screenshot(&client, &display, "drill-ended-by-outage-ja.png").await;
            // Patients can still book online: one press stops it (issue 17).
            let open = text_eventually(
                &client,
                "booking-strip",
                "web booking still open",
                "Web予約",
            )
            .await;
            assert!(open.contains("まだ"), "{open}");
            click(&client, "booking-pause").await;
            text_eventually(
                &client,
                "booking-text",
                "the pause waiting for the line",
                "最初に送ります",
            )
            .await;
            save_screenshot(&client, &display, "booking-paused-offline-ja.png").await;
            // The checklist's web booking step is done with it.
            booking_step_ticked(&client).await;
            let row = |id: &str| format!("[data-testid=call-row][data-id=\"{id}\"]");
            click_css(
                &client,
                &format!("{} [data-outcome=cancelled]", row(&ids[0])),
            )
            .await;
            text_eventually(&client, "call-progress", "the cancel", "1/").await;
            click_css(
                &client,
                &format!("{} [data-outcome=no_answer]", row(&ids[1])),
            )
            .await;
            call_row_shows(&client, &ids[1], "不在").await;
            click_css(&client, &format!("{} [data-outcome=coming]", row(&ids[2]))).await;
            text_eventually(&client, "call-progress", "the third call", "2/").await;
            click(&client, "tab-receipts").await;
            type_into(&client, "amount", "3000").await;
            type_into(&client, "receipt-name", "窓口 花子").await;
            click(&client, "method-cash").await;
            click(&client, "add-receipt").await;
            text_eventually(&client, "receipt-total", "the receipt", "3,000").await;

            // Meanwhile someone at the clinic moves the cancelled patient on the server.
            let mut moved = day
                .appointments
                .iter()
                .find(|a| a["id"] == ids[0].as_str())
                .unwrap()
                .clone();
            moved["start"] = json!(format!("{}T15:00:00+09:00", tomorrow.format("%Y-%m-%d")));
            moved["end"] = json!(format!("{}T15:10:00+09:00", tomorrow.format("%Y-%m-%d")));
            // (reqwest's blocking client may not run on an async thread.)
            std::thread::scope(|s| s.spawn(|| hfs.put(&moved)).join().unwrap());
            // And a patient books tomorrow morning online, not knowing (issue 17).
            let booked_online = json!({
                "resourceType": "Appointment", "id": "enew", "status": "booked",
                "start": format!("{}T11:45:00+09:00", tomorrow.format("%Y-%m-%d")),
                "end": format!("{}T11:55:00+09:00", tomorrow.format("%Y-%m-%d")),
                "participant": [{"actor": {"reference": "Patient/ep5"}, "status": "accepted"}]
            });
            std::thread::scope(|s| s.spawn(|| hfs.put(&booked_online)).join().unwrap());

            // While the line is down the changes wait in the 同期 tab.
            click(&client, "tab-sync").await;
            eventually("six changes waiting", Duration::from_secs(20), async || {
                let states = attrs(&client, "[data-testid^=op-][data-state]", "data-state").await;
                (states.len() == 6 && states.iter().all(|s| s == "pending")).then_some(())
            })
            .await;
            // Why they wait, in the desk's words (the OS's English text was shown here).
            let why = text_eventually(
                &client,
                "sync-waiting",
                "why changes wait",
                "送信を待っています",
            )
            .await;
            assert!(!why.contains("os error"), "{why}");
            let first_op =
                text_eventually(&client, "op-1-error", "the pause's failure", "接続").await;
            assert!(!first_op.contains("os error"), "{first_op}");
            save_screenshot(&client, &display, "sync-waiting-ja.png").await;

            // The line comes back; nobody touches anything.
            net.set_link(&net.primary, true);
            net.route_via(&net.primary);
            eventually(
                "four sent, the cancel in conflict",
                Duration::from_secs(90),
                async || {
                    let mut states =
                        attrs(&client, "[data-testid^=op-][data-state]", "data-state").await;
                    states.sort();
                    (states == ["conflict", "done", "done", "done", "done", "done"]).then_some(())
                },
            )
            .await;
            // The pause went out first; the desk is reminded that booking is still stopped.
            let remind = text_eventually(
                &client,
                "booking-text",
                "the reminder to reopen web booking",
                "回線は戻りました",
            )
            .await;
            assert!(remind.contains("4枠"), "{remind}");
            save_screenshot(&client, &display, "booking-remind-ja.png").await;
            // The clinic decides to stay closed for now: the reminder ends, reopening stays.
            click(&client, "booking-keep").await;
            text_eventually(
                &client,
                "booking-text",
                "booking kept stopped",
                "止めたままにしています",
            )
            .await;
            let conflict = attrs(&client, "[data-state=conflict]", "data-testid").await;
            let sides = text_eventually(
                &client,
                &format!("{}-sides", conflict[0]),
                "both sides",
                "15:00",
            )
            .await;
            assert!(
                sides.contains("キャンセル") || sides.contains("取消"),
                "{sides}"
            );
            save_screenshot(&client, &display, "sync-conflict-ja.png").await;
            // The patient did call to cancel: the desk's change stands, on the server's version.
            click(&client, &format!("{}-keep_mine", conflict[0])).await;
            eventually("everything sent", Duration::from_secs(60), async || {
                let states = attrs(&client, "[data-testid^=op-][data-state]", "data-state").await;
                (states.len() == 6 && states.iter().all(|s| s == "done")).then_some(())
            })
            .await;
            // Web booking reopens: the strip goes once the server has the slots back.
            click(&client, "booking-resume").await;
            eventually(
                "web booking open again",
                Duration::from_secs(60),
                async || {
                    client
                        .find(Locator::Css("[data-testid=booking-strip]"))
                        .await
                        .is_err()
                        .then_some(())
                },
            )
            .await;
            let reconciled = eventually(
                "the incident reconciled",
                Duration::from_secs(30),
                async || {
                    let r = attrs(&client, "[data-testid^=sync-group-]", "data-reconciled").await;
                    (r.first().map(String::as_str) == Some("true")).then_some(r)
                },
            )
            .await;
            assert_eq!(reconciled.len(), 1, "one incident: {reconciled:?}");
            save_screenshot(&client, &display, "sync-done-ja.png").await;
            // The online booking made during the outage leads the call list, marked 新規.
            click(&client, "tab-calls").await;
            let first = eventually(
                "the online booking first on the call list",
                Duration::from_secs(30),
                async || {
                    let ids = attrs(&client, "[data-testid=call-row]", "data-id").await;
                    (ids.first().map(String::as_str) == Some("enew")).then_some(ids)
                },
            )
            .await;
            assert!(first.len() > 3, "{first:?}");
            let badge = text_eventually(&client, "row-news", "the 新規 mark", "新規").await;
            assert_eq!(badge.trim(), "新規");
            save_screenshot(&client, &display, "call-news-ja.png").await;
            client.close().await.unwrap();
        });
    });

    // The server holds each change once: the cancel, three calls, the receipt.
    let ops: Vec<Value> = run_cli(&session, data.path(), &["outbox", "list", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ops.len(), 7);
    for id in &slots {
        let history = hfs.get(&format!("Slot/{id}/_history"));
        assert_eq!(
            history["entry"].as_array().unwrap().len(),
            3,
            "{id}: {history}"
        );
        assert_eq!(slot_status(id), "free", "{id}");
    }
    for op in &ops {
        assert_eq!(op["state"], "done", "{op}");
        let key = op["key"].as_str().unwrap();
        let count = |kind: &str| {
            hfs.get(&format!(
                "{kind}?identifier=urn:ietf:rfc:3986|urn:uuid:{key}&_summary=count"
            ))["total"]
                .as_u64()
                .unwrap()
        };
        match op["kind"].as_str().unwrap() {
            "call_outcome" => assert_eq!(count("Communication"), 1, "{op}"),
            "receipt" => assert_eq!(count("Invoice"), 1, "{op}"),
            "appointment_cancel" => {
                let id = op["target_id"].as_str().unwrap();
                let a = hfs.get(&format!("Appointment/{id}"));
                assert_eq!(a["status"], "cancelled");
                assert!(a["start"].as_str().unwrap().contains("T15:00"), "{a}");
                assert_eq!(op["resolution"], "kept_mine");
            }
            "booking_pause" | "booking_resume" => {} // the Slots' histories above
            other => panic!("unexpected op {other}"),
        }
    }
    drop(cleanup);
}

/// Issue 20, item 10: a logout or an OS shutdown stops the app with SIGTERM (a terminal's
/// Ctrl+C sends SIGINT, a closed terminal SIGHUP); each is a clean stop, not the next
/// morning's 「正常に終了しませんでした（停電・再起動・故障の可能性）」. One data folder
/// for all three, as on a desk: each start must find the previous stop clean. The same for
/// the tray process (issue 18), which runs the desk where it is installed, and for the app
/// running the desk itself (`--no-tray`, where it is not).
#[test]
fn issue_20_sigterm_sigint_and_sighup_are_clean_stops_not_a_power_cut() {
    let session = Session::start();
    let display = Display::start();
    let data = tempfile::Builder::new()
        .prefix("tsunagi-e2e-")
        .tempdir()
        .unwrap();
    let _internet = seed_healthy_monitor(data.path());
    // What doctor says (it exits 9 while a check warns, so its output is read as is).
    let doctor = || {
        let out = session
            .command(cli_binary())
            .args(["doctor", "--no-probe", "--data-dir"])
            .arg(data.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let tray = std::path::Path::new(APP).with_file_name("tsunagi-tray");
    let programs = [(APP, &["--no-tray"][..]), (tray.to_str().unwrap(), &[][..])];
    for ((signal, name), (program, flags)) in [
        (tsunagi_testkit::SIGTERM, "SIGTERM"),
        (tsunagi_testkit::SIGINT, "SIGINT"),
        (tsunagi_testkit::SIGHUP, "SIGHUP"),
    ]
    .into_iter()
    .flat_map(|s| programs.iter().map(move |p| (s, *p)))
    {
        let name = format!("{name}-{}", if flags.is_empty() { "tray" } else { "app" });
        let app = session
            .command(program)
            .args(flags)
            .args(["--hidden", "--data-dir"])
            .arg(data.path())
            .env("DISPLAY", display.name())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(artifacts().join(format!("{name}.log"))).unwrap(),
            ))
            .spawn()
            .expect("start the app");
        let mut app = tsunagi_testkit::ChildGuard::new("tsunagi", app);
        // Running: its runtime has recorded this run and watches the line.
        tsunagi_testkit::wait_until(Duration::from_secs(60), "the app to run", || {
            doctor().contains("the app is running")
        });
        let status = app.stop_with(signal, Duration::from_secs(20));
        assert!(
            status.is_some_and(|s| s.success()),
            "a {name} ends the app with exit 0: {status:?}"
        );
        let after = doctor();
        assert!(after.contains("the app is not running"), "{name}: {after}");
        assert!(!after.contains("did not stop cleanly"), "{name}: {after}");
    }
}

/// Issue 16: a second desk of the clinic (受付1, `tsunagi-cli run` in its own folder)
/// pairs with this one by code over the LAN (here loopback, on other ports); a patient it
/// reaches shows on this window's call list as reached there, by whom, and 未連絡のみ hides
/// the row. Screenshot: call-elsewhere-ja.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_a_call_made_at_another_desk_shows_on_this_desks_list() {
    let rig = Rig::start_on_desk_screen("desks");
    let config = rig.data_dir().join("config.toml");
    let seeded = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{seeded}\n[peers]\nname = \"受付2\"\nport = 48630\npairing_port = 48631\n"),
    )
    .unwrap();
    let other = tempfile::Builder::new()
        .prefix("tsunagi-e2e-desk1-")
        .tempdir()
        .unwrap();
    std::fs::write(
        other.path().join("config.toml"),
        "device_id = \"desk1\"\nlanguage = \"ja\"\nautostart = false\n\
         [source]\nkind = \"demo\"\n[peers]\nname = \"受付1\"\n",
    )
    .unwrap();
    let _other_run = tsunagi_testkit::ChildGuard::new(
        "the other desk",
        rig.session
            .command(cli_binary())
            .args(["run", "--data-dir"])
            .arg(other.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = rig.client().await;
    text_eventually(&client, "appointment-count", "the day to load", "件").await;

    // 受付1 shows a code (from its terminal); this desk types it in 設定 → 他の端末.
    let mut command = rig.session.command(cli_binary());
    command
        .args(["pair", "show", "--data-dir"])
        .arg(other.path())
        .stderr(Stdio::null());
    let (mut show, code) = tsunagi_testkit::show_pairing_code(command);
    click(&client, "settings-button").await;
    type_into(&client, "pair-address", "127.0.0.1:48621").await;
    type_into(&client, "pair-code", &code).await;
    click(&client, "pair-join").await;
    text_eventually(&client, "pair-done", "paired", "受付1とつながりました").await;
    text_eventually(&client, "desk-state", "受付1 connected", "接続中").await;
    // This desk shows a code of its own; 受付1 types it (pairing again is harmless), and
    // the screen says so and closes the code.
    click(&client, "pairing-show").await;
    let shown = text_eventually(&client, "pairing-code", "a code", " ").await;
    client
        .execute(
            "document.querySelector('[data-testid=desks-settings]').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    save_screenshot(&client, &rig.display, "settings-desks-ja.png").await;
    let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(digits.len(), 8, "{shown}");
    run_cli(
        &rig.session,
        other.path(),
        &["pair", "join", "127.0.0.1:48631", &digits],
    );
    text_eventually(
        &client,
        "pair-done",
        "paired by this desk's code",
        "受付1とつながりました",
    )
    .await;
    assert_eq!(
        text_of(&client, "pairing-code").await,
        None,
        "the code closed"
    );
    click(&client, "settings-close").await;

    click(&client, "tab-calls").await;
    tick_box(&client, "include-tomorrow").await;
    // The first row (today's, or tomorrow morning's late in the day): at the top, in view.
    let row = eventually("a row", Duration::from_secs(10), async || {
        client
            .find(Locator::Css("[data-testid=call-row]"))
            .await
            .ok()
    })
    .await;
    let id = row.attr("data-id").await.unwrap().expect("row id");
    let css = format!("[data-testid=call-row][data-id=\"{id}\"]");
    // 受付1 opens the patient's number: this row says so until the call is recorded there.
    run_cli(
        &rig.session,
        other.path(),
        &["--staff", "鈴木", "claim", &id],
    );
    eventually(
        "受付1 on the phone with the patient",
        Duration::from_secs(15),
        async || {
            let html = row_html(&client, &css).await;
            html.contains("受付1で通話中（鈴木）").then_some(())
        },
    )
    .await;
    save_screen(&client, &rig.display, "call-claimed-ja.png").await;
    // The other way: the call script opened here tells 受付1.
    let next = client
        .find_all(Locator::Css("[data-testid=call-row]"))
        .await
        .unwrap()[1]
        .attr("data-id")
        .await
        .unwrap()
        .expect("row id");
    client
        .find(Locator::Css(&format!(
            "[data-testid=call-row][data-id=\"{next}\"] [data-testid=script-toggle]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(
        "受付1 told this desk is on the phone",
        Duration::from_secs(15),
        async || {
            let calls = run_cli(
                &rig.session,
                other.path(),
                &["calls", "--json", "--tomorrow-morning"],
            );
            calls
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .any(|e| e["appointment_id"] == next.as_str() && e["claimed"]["desk"] == "受付2")
                .then_some(())
        },
    )
    .await;
    run_cli(
        &rig.session,
        other.path(),
        &["--staff", "鈴木", "call", &id, "coming"],
    );
    eventually(
        "the other desk's call on the row",
        Duration::from_secs(15),
        async || {
            let html = row_html(&client, &css).await;
            (html.contains("受付1で") && html.contains("鈴木") && !html.contains("通話中"))
                .then_some(())
        },
    )
    .await;
    let html = row_html(&client, &css).await;
    assert!(html.contains("来院予定"), "{html}");
    let class = client
        .find(Locator::Css(&css))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        class.contains("reached"),
        "the row counts as reached: {class}"
    );

    // The next patient is checked in (受付) at 受付1: arrived there, on this list too, with
    // no check-in button left to press twice.
    let second = client
        .find_all(Locator::Css("[data-testid=call-row]"))
        .await
        .unwrap()[1]
        .attr("data-id")
        .await
        .unwrap()
        .expect("row id");
    run_cli(
        &rig.session,
        other.path(),
        &["--staff", "佐藤", "arrive", &second, "--other-day"],
    );
    let css2 = format!("[data-testid=call-row][data-id=\"{second}\"]");
    eventually(
        "the other desk's check-in on the row",
        Duration::from_secs(15),
        async || {
            let html = row_html(&client, &css2).await;
            (html.contains("受付1で受付済み") && !html.contains("data-testid=\"arrive\""))
                .then_some(())
        },
    )
    .await;
    save_screen(&client, &rig.display, "call-elsewhere-ja.png").await;

    // Receipts: one taken here, then one at 受付1 while this ledger is open. It shows here
    // without leaving the tab, marked as 受付1's, and the summary counts each desk's drawer.
    click(&client, "tab-receipts").await;
    text_eventually(&client, "receipt-summary", "the ledger", "本日の合計").await;
    type_into(&client, "amount", "3000").await;
    type_into(&client, "receipt-name", "山田 太郎").await;
    click(&client, "method-cash").await;
    click(&client, "add-receipt").await;
    text_eventually(&client, "receipt-total", "this desk's receipt", "3,000").await;
    run_cli(
        &rig.session,
        other.path(),
        &[
            "--staff",
            "鈴木",
            "receipt",
            "add",
            "--amount",
            "1500",
            "--method",
            "cash",
            "--name",
            "佐藤 花子",
        ],
    );
    text_eventually(
        &client,
        "receipt-desk",
        "受付1's receipt in the open ledger",
        "受付1で発行",
    )
    .await;
    text_eventually(&client, "receipt-total", "both desks' total", "4,500").await;
    let drawers = eventually("a drawer per desk", Duration::from_secs(10), async || {
        let found = client
            .find_all(Locator::Css("[data-testid=drawer]"))
            .await
            .ok()?;
        let mut texts = Vec::new();
        for d in found {
            texts.push(d.text().await.ok()?);
        }
        (texts.len() == 2).then_some(texts)
    })
    .await;
    assert!(
        drawers
            .iter()
            .any(|d| d.contains("この端末") && d.contains("3,000")),
        "{drawers:?}"
    );
    assert!(
        drawers
            .iter()
            .any(|d| d.contains("受付1") && d.contains("1,500") && d.contains("鈴木")),
        "{drawers:?}"
    );
    save_screen(&client, &rig.display, "receipts-desks-ja.png").await;

    // 受付1 is lost: unpaired here, after a question; the list is empty again.
    click(&client, "settings-button").await;
    text_eventually(&client, "desk-row", "the desk list", "受付1").await;
    click(&client, "unpair").await;
    click(&client, "unpair-yes").await;
    text_eventually(&client, "no-desks", "no desk left", "まだどの端末").await;
    click(&client, "settings-close").await;
    let _ = show.stop(Duration::from_secs(5));
    client.close().await.unwrap();
}

/// One desk of the two-window test: the app under its own tauri-driver, in desk `i`'s
/// namespace on the clinic's LAN, with its own session (keyring and D-Bus: a second PC, so
/// the single-instance guard sees only its own app). Its WebDriver client lives on a thread
/// inside that namespace, where the driver listens; [`LanWindow::run`] hands it work.
struct LanWindow {
    jobs: Option<std::sync::mpsc::Sender<WindowJob>>,
    thread: Option<std::thread::JoinHandle<()>>,
    driver: tsunagi_testkit::ChildGuard,
    data: tempfile::TempDir,
    _session: Session,
}

type WindowJob = Box<dyn FnOnce(&tokio::runtime::Runtime, &Client) + Send>;

impl LanWindow {
    fn open(lan: &tsunagi_testkit::lan::Lan, i: usize, display: &Display) -> LanWindow {
        let session = Session::start();
        let data = tempfile::Builder::new()
            .prefix(&format!("tsunagi-e2e-lan{i}-"))
            .tempdir()
            .unwrap();
        std::fs::write(
            data.path().join("config.toml"),
            format!(
                "device_id = \"lan{i}\"\nlanguage = \"ja\"\nautostart = false\n\
                 [source]\nkind = \"demo\"\n[peers]\nname = \"受付{}\"\n\
                 takeover_after_secs = 5\n",
                i + 1
            ),
        )
        .unwrap();
        let ns = lan.desks[i].ns.clone();
        let (driver, port) = start_driver(&session, display, &format!("lan{i}"), Some(&ns));
        let args = json!({ "application": APP, "args": ["--data-dir", data.path()] });
        let (jobs, inbox) = std::sync::mpsc::channel::<WindowJob>();
        let thread = std::thread::spawn(move || {
            tsunagi_testkit::netns::enter_namespace(&ns);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let client = rt.block_on(async move {
                let mut caps = serde_json::Map::new();
                caps.insert("browserName".into(), json!("wry"));
                caps.insert("tauri:options".into(), args);
                ClientBuilder::native()
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await
                    .expect("a WebDriver session with the app")
            });
            for job in inbox {
                job(&rt, &client);
            }
            let _ = rt.block_on(client.close());
        });
        LanWindow {
            jobs: Some(jobs),
            thread: Some(thread),
            driver,
            data,
            _session: session,
        }
    }

    /// Drive this window: `f` gets its client, on the window's own thread; a panic there
    /// is this test's.
    fn run<T, F>(&self, f: impl FnOnce(Client) -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: std::future::Future<Output = T>,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let job: WindowJob = Box::new(move |rt, client| {
            let client = client.clone();
            let out =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(f(client))));
            let _ = tx.send(out);
        });
        self.jobs
            .as_ref()
            .expect("open")
            .send(job)
            .expect("the window's thread");
        match rx.recv().expect("the window's thread") {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl Drop for LanWindow {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.driver.stop(Duration::from_secs(10));
        stop_processes_with_arg(&self.data.path().display().to_string());
    }
}

/// Issue 16: two app windows on two desks (two network namespaces on one switch, no
/// internet: an outage). They pair through 設定 → 他の端末; a call script opened in one
/// shows 「受付1で通話中」 on the other's row while it is open, and the outcome recorded
/// there replaces it. Then 受付1 cancels a patient and loses power before sending it: 受付2
/// takes the change over, and its 同期 says whose it was. Screenshot: sync-taken-over-ja.png.
#[test]
fn issue_16_two_windows_on_two_desks_share_a_call_in_progress_and_its_outcome() {
    tsunagi_testkit::netns::require_root();
    tsunagi_testkit::clear_of_midnight(Duration::from_secs(300));
    let display = std::sync::Arc::new(Display::start());
    let lan = tsunagi_testkit::lan::Lan::new(2);
    let one = LanWindow::open(&lan, 0, &display);
    let two = LanWindow::open(&lan, 1, &display);
    // The day loads; the line is down (no internet here), so it may open on the call list.
    for w in [&one, &two] {
        w.run(|c| async move {
            eventually("the day to load", Duration::from_secs(30), async || {
                c.find(Locator::Css(
                    "[data-testid=call-row], [data-testid=appointment-count]",
                ))
                .await
                .ok()
            })
            .await;
        });
    }

    // 受付1 shows a code; 受付2 types it with 受付1's address on the LAN.
    let code = one.run(|c| async move {
        click(&c, "settings-button").await;
        click(&c, "pairing-show").await;
        let shown = text_eventually(&c, "pairing-code", "a code", " ").await;
        shown
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    });
    assert_eq!(code.len(), 8, "{code}");
    let address = format!("{}:48621", lan.desks[0].ip);
    two.run(|c| async move {
        click(&c, "settings-button").await;
        type_into(&c, "pair-address", &address).await;
        type_into(&c, "pair-code", &code).await;
        click(&c, "pair-join").await;
        text_eventually(&c, "pair-done", "paired", "受付1とつながりました").await;
        text_eventually(&c, "desk-state", "受付1 connected", "接続中").await;
        click(&c, "settings-close").await;
    });
    one.run(|c| async move {
        text_eventually(&c, "pair-done", "paired", "受付2とつながりました").await;
        text_eventually(&c, "desk-state", "受付2 connected", "接続中").await;
        click(&c, "settings-close").await;
    });
    for w in [&one, &two] {
        w.run(|c| async move {
            click(&c, "tab-calls").await;
            tick_box(&c, "include-tomorrow").await;
        });
    }

    // 受付1 opens a patient's call script: 受付2's row says 受付1 is on the phone.
    let id = one.run(|c| async move {
        let row = tomorrow_call_row(&c).await;
        let id = row.attr("data-id").await.unwrap().expect("row id");
        click_css(
            &c,
            &format!("[data-testid=call-row][data-id=\"{id}\"] [data-testid=script-toggle]"),
        )
        .await;
        id
    });
    let watched = id.clone();
    two.run(|c| async move { call_row_shows(&c, &watched, "受付1で通話中").await });

    // 受付1 records the outcome: on 受付2's row, the call replaces the claim.
    let called = id.clone();
    one.run(|c| async move {
        click_css(
            &c,
            &format!("[data-testid=call-row][data-id=\"{called}\"] [data-outcome=coming]"),
        )
        .await;
    });
    let coming = id.clone();
    two.run(|c| async move {
        let css = format!("[data-testid=call-row][data-id=\"{coming}\"]");
        eventually(
            "受付1's call on the row",
            Duration::from_secs(15),
            async || {
                let html = row_html(&c, &css).await;
                (html.contains("受付1で") && html.contains("来院予定") && !html.contains("通話中"))
                    .then_some(())
            },
        )
        .await;
    });

    // 受付1 cancels another patient and loses power while the change waits for 元に戻す.
    let cancelled = one.run(|c| async move {
        let ids = attrs(&c, "[data-testid=call-row]", "data-id").await;
        let other = ids
            .into_iter()
            .rev()
            .find(|x| *x != id)
            .expect("a second patient");
        click_css(
            &c,
            &format!("[data-testid=call-row][data-id=\"{other}\"] [data-outcome=cancelled]"),
        )
        .await;
        other
    });
    let arrived = cancelled.clone();
    two.run(|c| async move { call_row_shows(&c, &arrived, "受付1で").await });
    tsunagi_testkit::kill_processes_with_arg(&one.data.path().display().to_string());
    // 受付2 hears nothing from it past the grace (5 s here), takes its changes over and
    // sends them; 同期 says so.
    let shown = display.clone();
    two.run(|c| async move {
        click(&c, "tab-sync").await;
        let said = eventually(
            "受付1's change taken over",
            Duration::from_secs(90),
            async || {
                let found = c
                    .find(Locator::Css("[data-testid$=-taken-from]"))
                    .await
                    .ok()?;
                found.text().await.ok()
            },
        )
        .await;
        assert!(said.contains("受付1から引き継ぎ"), "{said}");
        save_screenshot(&c, &shown, "sync-taken-over-ja.png").await;
    });
}
