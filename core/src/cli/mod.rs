//! `tsunagi-cli`: the IT helper's view of the same install the desktop app uses. A thin
//! layer over `Desk`: parse, call, print. Errors are one line on stderr and an exit code
//! a script can branch on.

mod commands;
mod output;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::DataDir;
use crate::config::FhirAuthKind;
use crate::desk::{Desk, DeskOptions, SourceSetup};
use crate::error::{CoreError, Result};
use crate::keychain::Keychain;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other failure (the message says which)
  2  bad arguments (including an amount or a receipt number that cannot be used, or a
     source change refused while changes wait for the current source: add --yes)
  3  the OS keychain is unavailable or holds no key for this database
  4  the database is locked by another program, or another Tsunagi already runs this
     install's background work (`run` beside the desktop app)
  5  the database or its config cannot be read (wrong key, damaged, newer schema)
  6  the upstream failed (unreachable, credentials refused, not FHIR, ...) or a CSV
     file cannot be imported (each problem is printed with its line number)
  7  outbox drain: only conflicts or rejections are left
  8  outbox drain: changes still wait
  9  audit verify found the trail tampered with, or doctor found a failing check";

#[derive(Debug, Parser)]
#[command(
    name = "tsunagi-cli",
    version,
    about = "Tsunagi from a terminal: the same data directory and database as the desktop app",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Data directory [default: the OS app-data folder the desktop app uses]
    #[arg(long, global = true, value_name = "DIR", env = "TSUNAGI_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// Who is acting, for the audit trail and the records [default: terminal (OS user)]
    #[arg(long, global = true, value_name = "NAME", env = "TSUNAGI_STAFF")]
    staff: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Refresh the mirror from the configured source now
    Pull,
    /// A day's appointments from the mirror, in time order
    Today {
        /// The clinic day to show [default: today in the clinic's time zone]
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
        /// One JSON object per appointment and line
        #[arg(long)]
        json: bool,
    },
    /// The source, when the mirror was last refreshed, and what it holds
    Status {
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// Choose where appointments come from, then pull once to check it works
    Source(SourceArgs),
    /// Import appointments from a file
    #[command(subcommand)]
    Import(ImportCommand),
    /// Watch the line in the foreground: one line per change of state (online, degraded,
    /// offline) with its cause, until Ctrl-C. Probes and intervals come from [monitor] in
    /// config.toml; changes are recorded as incidents like the desktop app does
    Monitor {
        /// One JSON object per line: at, state, cause, from, since, incident_id, probes
        #[arg(long)]
        json: bool,
    },
    /// Run the desk's background work in the foreground, as the desktop app does under its
    /// window: watch the line, refresh the mirror, send queued changes (at once, and when
    /// the line comes back), write the downtime sheets, purge old records. One line per
    /// event until Ctrl-C or SIGTERM. Refused while the desktop app runs for this folder
    Run {
        /// One JSON object per event: at, kind, and the event's fields
        #[arg(long)]
        json: bool,
    },
    /// The call list: booked patients from now to the end of the day, with outcomes so far
    Calls {
        /// One JSON object per patient and line
        #[arg(long)]
        json: bool,
        /// Include tomorrow morning
        #[arg(long)]
        tomorrow_morning: bool,
    },
    /// Record a call: cancelled, rescheduled (with --to), coming, no_answer, left_message,
    /// wrong_number. A cancel or reschedule changes the appointment and is queued for the
    /// clinic's system
    Call {
        appointment_id: String,
        #[arg(value_parser = parse_outcome)]
        outcome: crate::calls::CallOutcome,
        /// The new date and time of a reschedule, e.g. "2026-11-26 10:30"
        #[arg(long, value_name = "DATE TIME")]
        to: Option<String>,
        #[arg(long)]
        note: Option<String>,
        /// Replace a cancellation or check-in recorded here that this outcome contradicts
        /// (it is taken back first; refused once it was sent)
        #[arg(long)]
        replace: bool,
    },
    /// Check a patient in at the desk (受付): the appointment becomes arrived and is queued
    Arrive {
        appointment_id: String,
        /// The appointment is on another day: check in anyway
        #[arg(long)]
        other_day: bool,
        /// Replace a cancellation recorded here (it is taken back first)
        #[arg(long)]
        replace: bool,
    },
    /// Say that a call to this patient is being made here now: the other desks show
    /// 「受付1で通話中」 for a few minutes, or until the call's outcome is recorded
    Claim { appointment_id: String },
    /// Take back a call's outcome or a check-in with the changes it queued (元に戻す),
    /// while none of them has been sent. The ids are those `calls --json` shows
    Withdraw {
        #[arg(value_parser = ["call", "arrival"])]
        kind: String,
        id: i64,
    },
    /// The receipt ledger (仮領収書): add, void, list, summary, export
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// A drill (訓練): practise an outage on the real mirror; nothing is sent upstream
    Drill {
        #[arg(value_parser = ["start", "end"])]
        action: String,
    },
    /// What is queued for the upstream (the outbox)
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Web booking on the clinic's FHIR server: stop it (its free Slots closed), reopen
    /// exactly what was closed, or see where it stands
    #[command(subcommand)]
    Booking(BookingCommand),
    /// The outage checklist: show it, or tick (`checklist tick 2`) or untick a step
    Checklist {
        #[command(subcommand)]
        action: Option<ChecklistAction>,
        #[arg(long)]
        json: bool,
    },
    /// The clinic's other desks this one is paired with, on the LAN: connected or last
    /// seen, and how far behind this desk's records they are
    Peers {
        #[arg(long)]
        json: bool,
    },
    /// Pair this desk with another of the clinic's desks, once: one shows a code, the
    /// other types it
    #[command(subcommand)]
    Pair(PairCommand),
    /// Stop accepting a paired desk (lost, stolen or replaced), by its id or name
    Unpair { desk: String },
    /// Outage and drill reports: list them, or show one (`report outage 3`)
    Report {
        #[arg(value_parser = ["outage", "drill"], requires = "id")]
        kind: Option<String>,
        id: Option<i64>,
        /// Write the printable page (HTML) to this file
        #[arg(long, requires = "kind")]
        html: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Write the printable downtime sheet (today's schedule with phones) now
    Sheet,
    /// The audit trail: who saw or changed which records, and when
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The names offered by the desk's quick switcher (most recent first; * at the desk)
    Staff,
    /// Remove what is past its retention period now (the app does this every 6 hours);
    /// changes still waiting to be sent are never touched
    Purge {
        #[arg(long)]
        json: bool,
    },
    /// Keychain, database, config, source and monitor health on one screen (exit 9 when
    /// something fails). Works even when the database cannot be opened
    Doctor {
        #[arg(long)]
        json: bool,
        /// Skip asking the line and the upstream (no network traffic)
        #[arg(long)]
        no_probe: bool,
    },
    /// The database key is lost: move the unreadable database aside (never deleted) and
    /// start with a fresh, empty mirror. Refused while the database opens
    StartFresh {
        /// Confirm: changes in the old file that were never sent stay in it
        #[arg(long, required = true)]
        yes: bool,
    },
    /// Crash on purpose with a patient's details in the panic (a privacy check: the crash
    /// output must not show them)
    #[command(hide = true)]
    DebugPanic,
    /// Outages, flaps and unclean stops not yet seen at the desk
    Signals {
        /// Mark them seen (the desk's "確認しました")
        #[arg(long)]
        mark_seen: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every row's hash and link; exit 9 and name the rows when the trail was edited,
    /// reordered or cut
    Verify {
        #[arg(long)]
        json: bool,
        /// An earlier `audit export`: prove every row of it is still in the trail, unchanged
        /// (history pinned outside the database)
        #[arg(long, value_name = "EXPORT")]
        against: Option<PathBuf>,
    },
    /// Write the trail as CSV (with every row's hash) for the clinic's records
    Export {
        /// Where to write it [default: the printouts folder]
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ChecklistAction {
    /// Mark a step done (its number as listed)
    Tick { step: u32 },
    /// Mark a step not done
    Untick { step: u32 },
}

#[derive(Debug, Subcommand)]
enum PairCommand {
    /// Show a one-time code (8 digits) and wait up to 5 minutes for the other desk to
    /// type it
    Show,
    /// Type the code the other desk shows; ADDRESS is that desk's IP address (or name)
    Join { address: String, code: String },
}

#[derive(Debug, Subcommand)]
enum BookingCommand {
    /// Stop web booking: the free Slots from now to the end of today (or --until) become
    /// busy-unavailable. Queued first in line; sent as soon as the server can be reached
    Pause {
        /// The end of the pause, today on the clinic's clock
        #[arg(long, value_name = "HH:MM")]
        until: Option<String>,
    },
    /// Reopen web booking: the Slots the pause closed are free again, each only if nobody
    /// changed it on the server meanwhile (those are listed)
    Resume,
    /// After the line returned: web booking stays stopped (the reminder to reopen it ends)
    KeepClosed,
    /// For a source with no way to stop web booking from here (CSV, the demo, a vendor's
    /// system): record that staff stopped it on the booking service's own site. The desk
    /// is then reminded to reopen it once the line is back
    Stopped,
    /// Record that staff reopened web booking on the booking service's own site
    Reopened,
    /// Whether web booking is stopped, since when and by whom, and what the server did
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Every queued change, oldest first, with its state
    List {
        #[arg(long)]
        json: bool,
    },
    /// Send what is queued to the upstream now. Exit 0: everything is done; 7: only
    /// conflicts or rejections are left (see the window's 同期 tab or `outbox resolve`);
    /// 8: changes still wait (the upstream could not be reached in time, or there is none)
    Drain {
        /// Keep retrying a failing upstream for this many seconds
        #[arg(long, default_value_t = 120)]
        patience: u64,
        #[arg(long)]
        json: bool,
    },
    /// Decide on a conflict (keep-mine, take-server) or a rejection (retry, discard)
    Resolve {
        seq: i64,
        #[arg(value_parser = ["keep-mine", "take-server", "retry", "discard"])]
        action: String,
    },
    /// Write every op of the reconciliation view as CSV to the printouts folder
    Export,
}

#[derive(Debug, clap::Args)]
struct SourceArgs {
    /// Switch even though changes made against the current source still wait to be sent
    /// (they keep waiting for it and are sent when it is the source again)
    #[arg(long, global = true)]
    yes: bool,
    #[command(subcommand)]
    kind: SourceCommand,
}

#[derive(Debug, Subcommand)]
enum SourceCommand {
    /// The built-in demo clinic
    Demo,
    /// Morning CSV exports imported with `tsunagi-cli import csv`, or by themselves from a
    /// watched export folder; nothing is pulled
    Csv {
        /// Import each new or changed CSV file saved in this folder, by itself
        #[arg(long, value_name = "FOLDER", conflicts_with = "no_folder")]
        folder: Option<PathBuf>,
        /// Read the folder's files through the column mapping saved under this name
        /// (default: the mapping saved for each file's header line)
        #[arg(long, value_name = "NAME", requires = "folder")]
        mapping: Option<String>,
        /// Stop watching the export folder
        #[arg(long)]
        no_folder: bool,
    },
    /// A FHIR R4 server; the token or password is read from standard input and kept only
    /// in the OS keychain, for this base URL only
    Fhir {
        /// The server's base URL, e.g. https://fhir.example.jp/r4
        url: String,
        /// Read a bearer token from standard input
        #[arg(long, conflicts_with = "basic")]
        token_stdin: bool,
        /// Use HTTP basic authentication with this user name
        #[arg(long, value_name = "USER", requires = "password_stdin")]
        basic: Option<String>,
        /// Read the basic-auth password from standard input
        #[arg(long, requires = "basic")]
        password_stdin: bool,
        /// Allow plain http to another machine (only on a trusted network)
        #[arg(long)]
        allow_plain_http: bool,
    },
    /// ORCA (日医標準レセプトソフト) through its API: on premises http(s)://host:8000, or
    /// WebORCA's https://…/api. The operator's password is read from standard input and
    /// kept only in the OS keychain, for this URL only
    Orca {
        /// The API's base URL, e.g. https://orca.clinic.lan:8000 (WebORCA: with /api)
        url: String,
        /// The ORCA operator (職員) the API signs in as
        #[arg(long, value_name = "USER")]
        user: String,
        /// Read the operator's password from standard input (needed the first time for
        /// this URL; without it the one in the keychain is kept)
        #[arg(long)]
        password_stdin: bool,
        /// Allow plain http to another machine (only on a trusted network)
        #[arg(long)]
        allow_plain_http: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ReceiptCommand {
    /// Record a payment; prints its provisional receipt number
    Add {
        /// Yen, e.g. 3000 (full-width digits and 3,000 are fine)
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long, value_parser = parse_method)]
        method: crate::receipts::PaymentMethod,
        /// A patient from the mirror (see `today --json`)
        #[arg(long, conflicts_with = "name")]
        patient: Option<String>,
        /// Or the name as given
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        memo: Option<String>,
        /// Issue it even though an identical one was issued a moment ago
        #[arg(long)]
        again: bool,
    },
    /// Void a receipt (a new entry; the original stays)
    Void {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Today's receipts (--all-days for every day)
    List {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        all_days: bool,
    },
    /// Today's totals per method (for the cash drawer)
    Summary {
        #[arg(long)]
        json: bool,
    },
    /// Every receipt as CSV on standard output, for the billing system
    Export,
    /// Mark a receipt as entered in the billing system
    Entered { number: String },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// A CSV export (UTF-8 or Shift_JIS; columns in docs/csv-import.md). A file whose
    /// header Tsunagi does not know is read through a column mapping: the one saved for
    /// its header line, the one named by --mapping, or one made here with --column
    Csv {
        file: PathBuf,
        /// Read the columns through the mapping saved under this name; with --column, save
        /// the new mapping under this name (once the file imports)
        #[arg(long, value_name = "NAME")]
        mapping: Option<String>,
        /// Say what a column of this file means, as FIELD=HEADER (repeat for each column).
        /// FIELD: id (予約番号), date, time, date_time, end, name, kana, phone (may repeat),
        /// reason, status
        #[arg(long = "column", value_name = "FIELD=HEADER", requires = "mapping")]
        columns: Vec<String>,
    },
    /// The saved column mappings: name, header line, and what each column means
    Mappings,
}

/// Run the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    crate::logging::init(None);
    crate::crash::install_panic_hook("tsunagi-cli");
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        // `tsunagi-cli today | head`: the reader left, which is not a failure.
        Err(CoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line, with the way out when the key is lost.
            let hint = if let CoreError::ChangesWaiting { .. } = &e {
                "; run the same command with --yes to switch anyway"
            } else if crate::desk::is_key_loss(&e) {
                "; if the key cannot be restored, `tsunagi-cli start-fresh --yes` keeps the \
                 file aside and starts a fresh mirror (`tsunagi-cli doctor` shows more)"
            } else {
                ""
            };
            eprintln!("tsunagi-cli: {e} [{}]{hint}", e.code());
            if let CoreError::Import(import) = &e {
                for p in import.problems().iter().filter(|p| p.line > 0) {
                    eprintln!("  line {}: {}", p.line, p.message);
                }
            }
            ExitCode::from(exit_code(&e))
        }
    }
}

fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!(
                "tsunagi-cli: a command is required (pull, today, status); see tsunagi-cli --help"
            );
            ExitCode::from(2)
        }
        _ => {
            let text = e.render().to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("tsunagi-cli: {line} (see tsunagi-cli --help)");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr and are off unless asked for (`TSUNAGI_LOG=info`), so stdout stays
/// clean for scripts and stderr carries one line per failure.
fn exit_code(e: &CoreError) -> u8 {
    match e {
        CoreError::KeyMissing { .. } | CoreError::KeychainUnavailable { .. } => 3,
        CoreError::Locked { .. } | CoreError::AlreadyRunning { .. } => 4,
        CoreError::NotDecryptable { .. }
        | CoreError::SchemaTooNew { .. }
        | CoreError::ConfigMissing { .. }
        | CoreError::ConfigInvalid { .. } => 5,
        CoreError::InvalidInput(_)
        | CoreError::Call(_)
        | CoreError::Receipt(_)
        | CoreError::ChangesWaiting { .. } => 2,
        CoreError::Source(_) | CoreError::Import(_) => 6,
        _ => 1,
    }
}

fn parse_method(s: &str) -> std::result::Result<crate::receipts::PaymentMethod, String> {
    crate::receipts::PaymentMethod::parse(s)
        .ok_or_else(|| format!("unknown method {s:?}; one of cash, card, qr, deferred"))
}

fn parse_outcome(s: &str) -> std::result::Result<crate::calls::CallOutcome, String> {
    crate::calls::CallOutcome::parse(s).ok_or_else(|| {
        let all: Vec<&str> = crate::calls::CallOutcome::ALL
            .iter()
            .map(|o| o.code())
            .collect();
        format!("unknown outcome {s:?}; one of {}", all.join(", "))
    })
}

/// Secrets come from standard input so they never appear in the shell history or `ps`.
fn read_secret() -> Result<String> {
    use std::io::Read;
    let mut secret = String::new();
    std::io::stdin()
        .read_to_string(&mut secret)
        .map_err(|e| CoreError::io("standard input", e))?;
    let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(CoreError::InvalidInput(
            "standard input was empty; pipe the secret in".to_owned(),
        ));
    }
    Ok(secret)
}

fn source_setup(command: SourceCommand) -> Result<(SourceSetup, Option<bool>)> {
    Ok(match command {
        SourceCommand::Demo => (SourceSetup::Demo, None),
        SourceCommand::Csv { .. } => (SourceSetup::Csv, None),
        SourceCommand::Fhir {
            url,
            token_stdin,
            basic,
            password_stdin: _,
            allow_plain_http,
        } => {
            let (auth, username, secret) = match (token_stdin, basic) {
                (true, _) => (FhirAuthKind::Bearer, None, Some(read_secret()?)),
                (false, Some(user)) => (FhirAuthKind::Basic, Some(user), Some(read_secret()?)),
                (false, None) => (FhirAuthKind::None, None, None),
            };
            (
                SourceSetup::Fhir {
                    base_url: url,
                    auth,
                    username,
                    secret,
                },
                Some(allow_plain_http),
            )
        }
        SourceCommand::Orca {
            url,
            user,
            password_stdin,
            allow_plain_http,
        } => (
            SourceSetup::Orca {
                base_url: url,
                username: user,
                secret: password_stdin.then(read_secret).transpose()?,
            },
            Some(allow_plain_http),
        ),
    })
}

/// Runs one command; the exit code for an answer that is not an error (`outbox drain`).
fn run(cli: Cli) -> Result<u8> {
    let data_dir = match cli.data_dir {
        Some(dir) => DataDir::at(dir),
        None => DataDir::os_default()?,
    };
    let options = DeskOptions {
        data_dir,
        keychain: Arc::new(Keychain::os()),
        clock: Arc::new(SystemClock),
        locale: crate::config::os_locale(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CoreError::io("async runtime", e))?;
    let staff = cli.staff.clone().unwrap_or_else(terminal_user);
    let mut out = std::io::stdout().lock();
    // Commands for a desk that may not open.
    match cli.command {
        Command::Doctor { json, no_probe } => {
            return runtime.block_on(commands::doctor(options, json, no_probe, &mut out))
        }
        Command::StartFresh { yes: _ } => return commands::start_fresh(options, &staff, &mut out),
        _ => {}
    }
    let desk = Arc::new(Desk::open(options)?);
    desk.act_as(Some(&staff))?;
    runtime.block_on(dispatch(desk, cli.command, &mut out))
}

/// One command on an open desk: each is a function in `commands`.
async fn dispatch(desk: Arc<Desk>, command: Command, out: &mut impl std::io::Write) -> Result<u8> {
    use commands as c;
    let desk = &desk;
    match command {
        Command::Pull => c::pull(desk, out).await,
        Command::Today { date, json } => c::today(desk, date, json, out).await,
        Command::Source(args) => c::source(desk, args, out).await,
        Command::Import(ImportCommand::Csv {
            file,
            mapping,
            columns,
        }) => c::import_csv(desk, &file, mapping, &columns, out).await,
        Command::Import(ImportCommand::Mappings) => c::mappings(desk, out).await,
        Command::Monitor { json } => c::monitor(desk, json, out).await,
        Command::Run { json } => c::written(run::run(desk.clone(), json, out).await?),
        Command::Receipt(command) => c::receipt(desk, command, out).await,
        Command::Drill { action } => c::drill(desk, &action, out).await,
        Command::Calls {
            json,
            tomorrow_morning,
        } => c::calls(desk, tomorrow_morning, json, out).await,
        Command::Call {
            appointment_id,
            outcome,
            to,
            note,
            replace,
        } => {
            let record = crate::calls::CallRecord {
                appointment_id,
                outcome,
                new_start: to,
                note,
                staff: None,
                replace_earlier: replace,
            };
            c::call(desk, record, out).await
        }
        Command::Arrive {
            appointment_id,
            other_day,
            replace,
        } => {
            let record = crate::calls::ArrivalRecord {
                appointment_id,
                staff: None,
                other_day_ok: other_day,
                replace_earlier: replace,
            };
            c::arrive(desk, record, out).await
        }
        Command::Claim { appointment_id } => {
            desk.claim_call(&appointment_id, None).await?;
            c::written(writeln!(
                out,
                "the other desks show that {appointment_id} is being called here"
            ))?;
            Ok(0)
        }
        Command::Withdraw { kind, id } => {
            let record = match kind.as_str() {
                "call" => crate::calls::Withdrawable::Call(id),
                _ => crate::calls::Withdrawable::Arrival(id),
            };
            c::withdraw(desk, record, out).await
        }
        Command::Outbox(command) => c::outbox(desk, command, out).await,
        Command::Booking(command) => c::booking(desk, command, out).await,
        Command::Checklist { action, json } => c::checklist(desk, action, json, out).await,
        Command::Peers { json } => c::peers(desk, json, out).await,
        Command::Pair(command) => c::pair(desk, command, out).await,
        Command::Unpair { desk: which } => c::unpair(desk, &which, out).await,
        Command::Report {
            kind,
            id,
            html,
            json,
        } => c::report(desk, kind.as_deref(), id, html, json, out).await,
        Command::Audit(command) => c::audit(desk, command, out).await,
        Command::Staff => c::staff(desk, out).await,
        Command::Purge { json } => c::purge(desk, json, out).await,
        Command::DebugPanic => {
            crate::crash::debug_panic(desk).await?;
            Ok(0)
        }
        Command::Sheet => c::sheet(desk, out).await,
        Command::Signals { mark_seen } => c::signals(desk, mark_seen, out).await,
        Command::Status { json } => c::status(desk, json, out).await,
        // Answered in `run`, before the desk opened.
        Command::Doctor { .. } | Command::StartFresh { .. } => Ok(0),
    }
}

/// Who the CLI acts as when `--staff` is not given: the terminal's OS user, so the trail
/// never credits the receptionist picked at the desk with what the IT helper did.
fn terminal_user() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default();
    let user: String = user.chars().filter(|c| !c.is_control()).take(28).collect();
    if user.is_empty() {
        "terminal".to_owned()
    } else {
        format!("terminal ({user})")
    }
}
