//! The command line: parse, dispatch to a subcommand, print results and errors the way
//! CONTRACT.md says (JSON with `--json`, exit codes by error kind).

mod audit;
mod connect;
mod demo;
mod flags;
mod key;
mod logging;
mod output;
mod progress;
mod query;
pub mod serve;
mod source;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::core::{Error, Result};
use crate::home::Home;

const ABOUT: &str = "Explore data read-only: register sources, browse schemas, run guarded SQL.";

const MAIN_EXAMPLES: &str = "\
Examples:
  tdb demo                                  open the UI on bundled sample data
  tdb source add people --type csv --path people.csv
  tdb source add orders --type postgres --url postgres://reader@db:5432/prod --connection '{\"table\":\"orders\"}'
  tdb query --source people --sql 'SELECT * FROM data LIMIT 5'
  tdb                                       open the UI on your registry";

#[derive(Debug, Parser)]
#[command(name = "tdb", version, about = ABOUT, after_help = MAIN_EXAMPLES)]
pub struct Cli {
    /// Home folder (default: $TDB_HOME, else $XDG_DATA_HOME/tdb, else ~/.local/share/tdb)
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,

    /// Audit log file (default: $TDB_AUDIT_LOG, else <home>/tdb_audit.jsonl)
    #[arg(long, global = true, value_name = "FILE")]
    audit_log: Option<PathBuf>,

    /// Machine-readable JSON output (errors too, as one line on stderr)
    #[arg(long, global = true)]
    json: bool,

    /// Settings of the terminal UI (default: $XDG_CONFIG_HOME/tdb/config.toml, else
    /// ~/.config/tdb/config.toml)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage data sources: add, list, show, schema, test, edit, set-password, rm
    #[command(subcommand)]
    Source(source::SourceCommand),
    /// Run one read-only SQL query on a source
    Query(query::QueryArgs),
    /// Print or verify the audit log
    Audit(audit::AuditArgs),
    /// Open the terminal UI on bundled sample data (a temporary home, removed at exit)
    Demo,
    /// Manage the API keys `tdb serve` accepts: create, list, revoke
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Serve the HTTP API (seeds 000–002) over this home's sources
    Serve(serve::ServeArgs),
}

/// What every subcommand gets: where the files are and how to print.
pub struct Context {
    pub home: Home,
    pub json: bool,
}

/// The interactive UI, opened on a home with an optional settings file. The binary passes
/// it in, so the headless commands build and test without the terminal UI.
pub type Ui = fn(&Home, Option<&Path>) -> Result<()>;

/// Runs the command line and returns the process exit code; `tdb` and `tdb demo` open `ui`,
/// `tdb serve` runs `server`.
pub fn main(ui: Ui, server: serve::Server) -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let json = cli.json;
    match run(cli, ui, server) {
        Ok(()) => 0,
        Err(e) => {
            report(&e, json);
            e.exit_code()
        }
    }
}

fn run(cli: Cli, ui: Ui, server: serve::Server) -> Result<()> {
    let ctx = Context {
        home: Home::resolve(cli.home, cli.audit_log)?,
        json: cli.json,
    };
    logging::init(&ctx.home);
    match cli.command {
        Some(Command::Source(cmd)) => source::run(&ctx, cmd),
        Some(Command::Query(args)) => query::run(&ctx, args),
        Some(Command::Audit(args)) => audit::run(&ctx, args),
        Some(Command::Demo) => demo::run(cli.config.as_deref(), ui),
        Some(Command::Key(cmd)) => key::run(&ctx, cmd),
        Some(Command::Serve(args)) => serve::run(&ctx, args, server),
        None => ui(&ctx.home, cli.config.as_deref()),
    }
}

/// clap's own errors exit 2; with `--json` they become one JSON line like every other error.
fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return 0;
    }
    if std::env::args().any(|a| a == "--json") {
        let detail = e
            .render()
            .to_string()
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("bad command line")
            .trim_start_matches("error: ")
            .to_string();
        let line = serde_json::json!({"error": {"status": 400, "detail": detail}});
        let _ = writeln!(std::io::stderr(), "{}", output::json_line(&line));
    } else {
        let _ = e.print();
    }
    2
}

fn report(e: &Error, json: bool) {
    let mut err = std::io::stderr().lock();
    if json {
        let _ = writeln!(err, "{}", output::json_line(&e.to_json()));
    } else {
        let _ = writeln!(err, "tdb: {}", output::for_terminal(e.detail()));
    }
}

/// Common arguments naming one source.
#[derive(Debug, Args)]
struct SourceRef {
    /// The source's name or id
    #[arg(value_name = "REF")]
    reference: String,
}

/// A small runtime for one command: a query or a schema read needs no more than one thread.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal("cannot start the async runtime", e))
}
