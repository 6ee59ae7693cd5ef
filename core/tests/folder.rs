//! The watched export folder (issue 19): a real desk on a real folder, the runtime's watch
//! running as it does under the window; files written the way a booking system writes them.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{broadcast, watch};
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::DataDir;
use tsunagi_core::csv_import::{ColumnMapping, Field, MappedColumn};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::view::{DeskEvent, FolderView};
use tsunagi_core::{CsvColumns, Desk, DeskOptions};

fn open(dir: &Path, keychain: &Arc<Keychain>) -> Arc<Desk> {
    Arc::new(
        Desk::open(DeskOptions {
            data_dir: DataDir::at(dir),
            keychain: keychain.clone(),
            clock: Arc::new(SystemClock),
            locale: Some("ja_JP.UTF-8".into()),
        })
        .unwrap(),
    )
}

fn tokyo_today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive()
        .format("%Y/%m/%d")
        .to_string()
}

const HEADER: &str = "受付No,診察日時,患者氏名,携帯TEL\n";

fn row(id: &str, time: &str, name: &str) -> String {
    format!("{id},{} {time},{name},090-1234-5678\n", tokyo_today())
}

/// The next file the folder read, within `within` (none: `None`).
async fn next_read(
    events: &mut broadcast::Receiver<DeskEvent>,
    within: Duration,
) -> Option<FolderView> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(DeskEvent::FolderRead { view, .. })) => return Some(view),
            Ok(Ok(_)) => continue,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(e)) => panic!("events ended: {e}"),
            Err(_) => return None,
        }
    }
}

/// The watch as the runtime runs it, stopped when dropped.
struct Watch(watch::Sender<bool>, tokio::task::JoinHandle<()>);

impl Watch {
    fn start(desk: &Arc<Desk>) -> Watch {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(tsunagi_core::folder_watch::run(desk.clone(), stopped));
        Watch(stop, task)
    }

    async fn stop(self) {
        let _ = self.0.send(true);
        self.1.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_19_the_export_folder_imports_a_file_written_in_pieces_once_complete_and_a_bad_one_changes_nothing(
) {
    let data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let desk = open(data.path(), &keychain);

    // The vendor's mapping was made once (in the window, or with --column).
    let col = |index: u32, header: &str, field| MappedColumn {
        index,
        header: header.into(),
        field,
    };
    let mapping = ColumnMapping {
        columns: vec![
            col(0, "受付No", Field::Id),
            col(1, "診察日時", Field::DateTime),
            col(2, "患者氏名", Field::Name),
            col(3, "携帯TEL", Field::Phone),
        ],
    };
    let first = format!("{HEADER}{}", row("R-1", "8:30", "山田 太郎"));
    desk.import_csv_with(
        first.into_bytes(),
        CsvColumns::New {
            name: "予約システム".into(),
            mapping,
        },
        None,
    )
    .await
    .unwrap();

    let folder = exports.path().display().to_string();
    let typo = desk
        .set_csv_folder(Some(format!("{folder}/ない")), None)
        .await
        .unwrap_err();
    assert!(typo.to_string().contains("does not exist"), "{typo}");
    let unknown = desk
        .set_csv_folder(Some(folder.clone()), Some("別のシステム".into()))
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("別のシステム"), "{unknown}");
    let settings = desk
        .set_csv_folder(Some(folder.clone()), Some("予約システム".into()))
        .await
        .unwrap();
    assert_eq!(
        settings.csv_folder.unwrap().mapping.as_deref(),
        Some("予約システム")
    );

    // This booking system writes to a slow share with pauses of seconds: the IT helper
    // set a longer quiet time. The pauses below are longer than a scan, so a watch that
    // read a file before it stayed quiet would read it cut.
    let config = data.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("quiet_secs = 3"), "{text}");
    std::fs::write(&config, text.replace("quiet_secs = 3", "quiet_secs = 7")).unwrap();
    desk.fresh_config().await;

    let mut events = desk.subscribe();
    let watching = Watch::start(&desk);

    // The booking system writes its export in pieces, the last row cut in the middle until
    // the end: it is read once, whole.
    let path = exports.path().join("予約一覧_today.csv");
    let rows = [
        row("R-1", "9:00", "山田 太郎"),
        row("R-2", "9:30", "鈴木 花子"),
        row("R-3", "10:00", "佐藤 健一"),
    ];
    let whole = format!("{HEADER}{}", rows.concat());
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&whole);
    let cut = sjis.len() - 12;
    let mut file = std::fs::File::create(&path).unwrap();
    for piece in [&sjis[..40], &sjis[40..cut], &sjis[cut..]] {
        file.write_all(piece).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(4500)).await;
    }
    drop(file);
    // Saved 20 minutes ago, say: its own time is the data's age.
    let saved_at = SystemTime::now() - Duration::from_secs(20 * 60);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(saved_at)
        .unwrap();
    let read = next_read(&mut events, Duration::from_secs(25))
        .await
        .expect("the file was read");
    assert_eq!(read.file_name, "予約一覧_today.csv");
    assert_eq!(read.imported, Some(3), "whole: {read:?}");
    assert!(read.problems.is_empty());
    assert_eq!(
        next_read(&mut events, Duration::from_secs(8)).await,
        None,
        "read once"
    );
    let status = desk.status().await.unwrap();
    let synced_at = status.synced_at.clone();
    let age = chrono::DateTime::parse_from_rfc3339(synced_at.as_deref().unwrap()).unwrap();
    let saved: chrono::DateTime<chrono::Utc> = saved_at.into();
    assert_eq!(
        age.timestamp(),
        saved.timestamp(),
        "the data is as old as the file"
    );
    assert_eq!(status.folder.unwrap().imported, Some(3));
    let day = desk.today(None).await.unwrap();
    let ids: Vec<&str> = day.appointments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        ["csv-R-1", "csv-R-2", "csv-R-3"],
        "the day is the file's"
    );

    // A bad file: refused with its lines, nothing changes.
    let bad = format!(
        "{HEADER}{}R-5,明日,田中 一郎,\nR-6,{} 11:00,,\n",
        row("R-4", "10:30", "高橋 秀樹"),
        tokyo_today()
    );
    std::fs::write(exports.path().join("予約一覧_bad.csv"), bad).unwrap();
    let refused = next_read(&mut events, Duration::from_secs(20))
        .await
        .expect("the bad file was read");
    assert_eq!(refused.imported, None);
    let lines: Vec<u64> = refused.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4], "{refused:?}");
    let after = desk.today(None).await.unwrap();
    assert_eq!(after.appointments, day.appointments, "nothing changed");
    let status = desk.status().await.unwrap();
    assert_eq!(
        status.folder.as_ref().unwrap().file_name,
        "予約一覧_bad.csv"
    );
    assert_eq!(
        status.synced_at, synced_at,
        "the data is still the good file's"
    );
    watching.stop().await;

    // After a restart nothing already read is read again.
    drop(desk);
    let desk = open(data.path(), &keychain);
    let mut events = desk.subscribe();
    let watching = Watch::start(&desk);
    assert_eq!(
        next_read(&mut events, Duration::from_secs(8)).await,
        None,
        "both files were read before the restart"
    );
    watching.stop().await;
}
