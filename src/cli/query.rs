//! `tdb query`: one guarded, read-only query (seed 002 "Run a query").

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::signal::unix::{Signal, SignalKind, signal};

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::Context;
use super::output::{for_terminal, print_json};
use crate::audit::{SqlDigest, sql_prefix};
use crate::backend::engine::{Engine, QueryOutcome, StreamAudit, Streamed};
use crate::backend::export::WriteSink;
use crate::connector::Hold;
use crate::core::export::{Format, RowWriter};
use crate::core::guard::{DEFAULT_LIMIT, MAX_SQL_CHARS};
use crate::core::sanitize;
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
use crate::file_export::AtomicFile;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  tdb query --source people --sql 'SELECT name FROM data ORDER BY id' --limit 10
  tdb query --source orders --sql 'SELECT status, count(*) FROM data GROUP BY 1' --json
  tdb query --source orders --sql - --csv < report.sql > report.csv

Only one SELECT/WITH/VALUES statement is accepted; `data` names the source's table. Without
a LIMIT, one is added; at most --limit rows come back and `truncated` says whether more
existed. Ctrl-C cancels the query on the server.")]
pub struct QueryArgs {
    /// The source's name or id
    #[arg(long, value_name = "REF")]
    source: String,
    /// The SQL ("-" reads it from stdin); may start with a comment (`-- …`)
    #[arg(long, value_name = "SQL", allow_hyphen_values = true)]
    sql: String,
    /// Maximum rows to return, 1–1000
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LIMIT as i64, allow_negative_numbers = true)]
    limit: i64,
    /// Output CSV (header, then rows; NULL is an empty field)
    #[arg(long, conflicts_with = "tsv")]
    csv: bool,
    /// Output TSV (tabs, newlines and backslashes in values escaped as \t \n \\)
    #[arg(long)]
    tsv: bool,
    /// Stream every row, with no row limit, in bounded memory (CSV unless --tsv or --jsonl)
    #[arg(long, conflicts_with = "limit")]
    all: bool,
    /// With --all: JSON lines, one object per row
    #[arg(long, requires = "all", conflicts_with_all = ["csv", "tsv"])]
    jsonl: bool,
    /// With --all: write to FILE instead of stdout (whole or not at all, mode 0600; an
    /// existing FILE is refused unless --force)
    #[arg(long, value_name = "FILE", requires = "all")]
    output: Option<PathBuf>,
    /// With --output: replace FILE if it exists
    #[arg(long, requires = "output")]
    force: bool,
}

pub fn run(ctx: &Context, args: QueryArgs) -> Result<()> {
    if ctx.json && (args.csv || args.tsv) {
        return Err(Error::Invalid(
            "choose one output format: --json, --csv or --tsv".into(),
        ));
    }
    let mut engine = Engine::open(&ctx.home)?;
    let limit = crate::core::guard::check_limit(args.limit)?;
    let sql = if args.sql == "-" {
        match read_sql(io::stdin().lock())? {
            StdinSql::Whole(s) => s,
            StdinSql::Oversize { prefix, digest } => {
                return Err(engine.refuse_oversize(&args.source, &prefix, digest, limit));
            }
        }
    } else {
        args.sql.clone()
    };
    if args.all {
        return run_all(ctx, &args, engine, &sql);
    }
    let planned = engine.plan(&args.source, &sql, limit)?;
    let ticket = planned.ticket();
    let rt = super::runtime()?;
    let cancel = CancellationToken::new();
    let progress = super::progress::import_bar(ctx);
    let (outcome, signal) = rt.block_on(async {
        // Listening replaces the signals' default action, so it starts before the run does:
        // from the `query_started` line on, a signal cancels the query on the server and
        // lets its `query_failed` line be written before tdb exits.
        let mut signals = Signals::listen()?;
        let run = planned.run(cancel.clone(), progress.callback());
        tokio::pin!(run);
        let signal = tokio::select! {
            r = &mut run => return Ok((r, None)),
            s = signals.next() => s,
        };
        cancel.cancel();
        Ok::<_, Error>((run.await, Some(signal)))
    })?;
    progress.finish();
    engine.settle_query(&ticket, &outcome);
    if let Some(signal) = signal {
        return Err(match &outcome {
            Err(e) => Error::interrupted(signal, e.detail()),
            Ok(_) => Error::interrupted(
                signal,
                "the query ended meanwhile; its rows are not printed",
            ),
        });
    }
    let outcome = outcome?;
    if ctx.json {
        return print_json(&outcome);
    }
    let printed = match (args.csv, args.tsv) {
        (true, _) => write_rows(&outcome.result, Format::Csv),
        (_, true) => write_rows(&outcome.result, Format::Tsv),
        _ => print_human(&outcome),
    };
    match printed {
        Ok(()) => {}
        // The reader went away (`| head`): what it wanted it has; say nothing, as cat does.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(Error::Internal(format!("cannot write the result: {e}"))),
    }
    // The human table says so itself; CSV and TSV have no room for it.
    if (args.csv || args.tsv) && outcome.result.truncated {
        let n = outcome.result.rows.len();
        let _ = writeln!(
            io::stderr(),
            "tdb: {n} rows shown, more exist (--limit {limit})"
        );
    }
    Ok(())
}

/// How long `--all` lets a slow reader of its output (a paused pipe) keep the statement
/// waiting before the source may give up on it.
const ALL_HOLD: Hold = Hold(Duration::from_secs(600));

/// `--all`: every row, streamed from the source to stdout or `--output` as it comes.
fn run_all(ctx: &Context, args: &QueryArgs, mut engine: Engine, sql: &str) -> Result<()> {
    if ctx.json {
        return Err(Error::Invalid(
            "--all writes CSV, TSV or JSON lines: use --jsonl instead of --json".into(),
        ));
    }
    let format = match (args.jsonl, args.tsv) {
        (true, _) => Format::JsonLines,
        (_, true) => Format::Tsv,
        _ => Format::Csv,
    };
    // The file is checked (and its temporary opened) before anything runs.
    let file = match &args.output {
        Some(path) => Some(AtomicFile::create(path, args.force).map_err(force_hint)?),
        None => None,
    };
    let planned = engine.plan_unlimited(&args.source, sql)?;
    let ticket = planned.ticket();
    let stdout_tty = io::stdout().is_terminal();
    // The progress line is for a person watching stderr, and never over rows on the same
    // terminal.
    let watched = io::stderr().is_terminal() && (file.is_some() || !stdout_tty);
    let line = watched.then(ProgressLine::new);
    let progress = line.as_ref().map(ProgressLine::callback);
    let imports = super::progress::import_bar(ctx);
    let outcome = match file {
        Some(file) => {
            let sink = WriteSink::new(file, format).with_progress(progress);
            let (outcome, sink) = stream_all(planned, sink, imports.callback())?;
            outcome.map(|(streamed, signal)| {
                // Only a whole result is put in place; else the temporary file goes.
                let whole = streamed.is_ok() && signal.is_none();
                let done = sink.finish();
                let done = done.map(|f| f.filter(|_| whole).map(AtomicFile::commit));
                (streamed, signal, done)
            })
        }
        None => {
            let out = io::BufWriter::with_capacity(1 << 16, io::stdout());
            let mut sink = WriteSink::new(out, format).with_progress(progress);
            if stdout_tty {
                sink = sink.with_text_filter(sanitize::for_terminal);
            }
            let (outcome, sink) = stream_all(planned, sink, imports.callback())?;
            outcome.map(|(streamed, signal)| {
                let done = sink.finish().map(|w| w.map(|_| Ok(0)));
                (streamed, signal, done)
            })
        }
    };
    imports.finish();
    if let Some(l) = &line {
        l.clear();
    }
    let (streamed, signal, done) = match outcome {
        Ok(o) => o,
        Err(e) => {
            let failed: Result<Streamed> = Err(e.clone());
            engine.settle_stream(&ticket, &failed);
            return Err(e);
        }
    };
    engine.settle_stream(&ticket, &streamed);
    if let Some(signal) = signal {
        return Err(match &streamed {
            Err(e) => Error::interrupted(signal, e.detail()),
            Ok(_) => Error::interrupted(signal, "the query ended meanwhile"),
        });
    }
    let streamed = streamed?;
    let written = match done {
        Ok(Some(committed)) => committed.map_err(force_hint)?,
        // The reader went away (`| head`): what it wanted it has.
        Ok(None) => return Ok(()),
        Err(e) => return Err(Error::Internal(format!("cannot write the rows: {e}"))),
    };
    if let (Some(path), true) = (&args.output, watched) {
        let _ = writeln!(
            io::stderr(),
            "tdb: {} rows written to {} ({}, {})",
            streamed.rows,
            for_terminal(&path.display().to_string()),
            crate::core::export::format_size(written),
            seconds(streamed.duration)
        );
    }
    Ok(())
}

/// Runs a streamed query into `sink` with the signals listened for, as [`run`] does:
/// the streamed outcome, the signal that cut it short if any, and the sink back.
#[allow(clippy::type_complexity)]
fn stream_all<W: Write + Send>(
    planned: crate::backend::engine::Planned,
    mut sink: WriteSink<W>,
    imports: Option<crate::core::progress::ProgressFn>,
) -> Result<(Result<(Result<Streamed>, Option<i32>)>, WriteSink<W>)> {
    let rt = super::runtime()?;
    let cancel = CancellationToken::new();
    let outcome = rt.block_on(async {
        let mut signals = Signals::listen()?;
        let run = planned.stream(
            &mut sink,
            ALL_HOLD,
            StreamAudit::Whole,
            cancel.clone(),
            imports,
        );
        tokio::pin!(run);
        let signal = tokio::select! {
            r = &mut run => return Ok((r, None)),
            s = signals.next() => s,
        };
        cancel.cancel();
        Ok::<_, Error>((run.await, Some(signal)))
    });
    Ok((outcome, sink))
}

/// `4.1 s`.
fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// An existing `--output` file: say how to replace it.
fn force_hint(e: Error) -> Error {
    match e {
        Error::Conflict(detail) => Error::Invalid(format!(
            "{}; add --force to replace it",
            detail.split(':').next().unwrap_or(&detail)
        )),
        other => other,
    }
}

/// `tdb: 120000 rows · 12.3 MB · 4.1 s` on stderr, rewritten in place at most ten times a
/// second.
struct ProgressLine {
    started: Instant,
    last: Arc<std::sync::Mutex<Option<Instant>>>,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine {
            started: Instant::now(),
            last: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    fn callback(&self) -> crate::core::progress::ProgressFn {
        let started = self.started;
        let last = Arc::clone(&self.last);
        Arc::new(move |p| {
            let Ok(mut last) = last.lock() else { return };
            let now = Instant::now();
            if last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) && !p.done {
                return;
            }
            *last = Some(now);
            let _ = write!(
                io::stderr(),
                "\r\x1b[2Ktdb: {} rows · {} · {}",
                p.rows,
                crate::core::export::format_size(usize::try_from(p.bytes).unwrap_or(usize::MAX)),
                seconds(now.duration_since(started))
            );
        })
    }

    /// Takes the line away once the rows are all out.
    fn clear(&self) {
        if self.last.lock().is_ok_and(|l| l.is_some()) {
            let _ = write!(io::stderr(), "\r\x1b[2K");
        }
    }
}

/// The signals that end a query: Ctrl-C, `kill`, and a closed terminal or SSH session.
struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Signals {
    fn listen() -> Result<Signals> {
        let on = |kind| signal(kind).map_err(|e| Error::internal("cannot listen for signals", e));
        Ok(Signals {
            int: on(SignalKind::interrupt())?,
            term: on(SignalKind::terminate())?,
            hup: on(SignalKind::hangup())?,
        })
    }

    /// The number of the first signal to arrive.
    async fn next(&mut self) -> i32 {
        tokio::select! {
            _ = self.int.recv() => libc::SIGINT,
            _ = self.term.recv() => libc::SIGTERM,
            _ = self.hup.recv() => libc::SIGHUP,
        }
    }
}

/// Bytes of stdin that can hold [`MAX_SQL_CHARS`] + 1 characters: up to this much is kept,
/// so SQL the guard may accept arrives whole and SQL one character too long is still seen
/// as too long.
const KEEP_BYTES: usize = 4 * (MAX_SQL_CHARS + 1);

/// How much of stdin is read at most. Past [`KEEP_BYTES`] only the length and SHA-256 are
/// kept (for the audit line), so memory stays small; this caps the time an endless input
/// (`< /dev/zero`) can take.
const READ_CAP: u64 = 16 << 20;

/// SQL read from stdin: whole, or too long to run.
#[derive(Debug)]
enum StdinSql {
    Whole(String),
    Oversize { prefix: String, digest: SqlDigest },
}

/// Reads `--sql -` in bounded memory and time.
fn read_sql(mut input: impl Read) -> Result<StdinSql> {
    let read_err = |e: io::Error| Error::Invalid(format!("sql: cannot read stdin: {e}"));
    let mut kept = Vec::new();
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut chars = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    let cut = loop {
        let room = usize::try_from(READ_CAP - bytes).unwrap_or(usize::MAX);
        if room == 0 {
            // Whether the input goes on decides if the digest covers all of it.
            let n = input.read(&mut buf[..1]).map_err(read_err)?;
            break n > 0;
        }
        let want = room.min(buf.len());
        let n = match input.read(&mut buf[..want]) {
            Ok(0) => break false,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        let chunk = &buf[..n];
        hasher.update(chunk);
        bytes += n as u64;
        // UTF-8 starts a character on every byte that is not a continuation byte.
        chars += chunk.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
        if kept.len() < KEEP_BYTES {
            let take = (KEEP_BYTES - kept.len()).min(n);
            kept.extend_from_slice(&chunk[..take]);
        }
    };
    if bytes as usize <= KEEP_BYTES && !cut {
        let text = String::from_utf8(kept)
            .map_err(|_| Error::Invalid("sql: stdin is not valid UTF-8".into()))?;
        return Ok(StdinSql::Whole(text));
    }
    Ok(StdinSql::Oversize {
        prefix: sql_prefix(&String::from_utf8_lossy(&kept)),
        digest: SqlDigest {
            chars,
            bytes,
            sha256: hex::encode(hasher.finalize()),
            cut,
        },
    })
}

/// Streams the result row by row in `format` (CSV or TSV) with the same writer the clipboard
/// and export files use. Data goes out raw when redirected; on a terminal, escapes are made
/// visible.
fn write_rows(rs: &ResultSet, format: Format) -> io::Result<()> {
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    let mut w = RowWriter::new(io::BufWriter::new(stdout.lock()), format);
    if tty {
        w = w.with_text_filter(sanitize::for_terminal);
    }
    let names: Vec<&str> = rs.columns.iter().map(|c| c.name.as_str()).collect();
    w.header(&names)?;
    for row in &rs.rows {
        w.row(row)?;
    }
    w.finish()?.flush()
}

/// Widest a column gets in the human table; the machine formats keep everything.
const MAX_CELL_WIDTH: usize = 60;

fn print_human(outcome: &QueryOutcome) -> io::Result<()> {
    let rs = &outcome.result;
    let header: Vec<String> = rs
        .columns
        .iter()
        .map(|c| for_terminal(&c.name).into_owned())
        .collect();
    let rows: Vec<Vec<(String, bool)>> = rs
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| {
                    let text = match v.to_text() {
                        None => "NULL".to_string(),
                        Some(t) => sanitize::truncate_to_width(&for_terminal(&t), MAX_CELL_WIDTH)
                            .into_owned(),
                    };
                    (text, v.is_number())
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| sanitize::display_width(h)).collect();
    for row in &rows {
        for (i, (c, _)) in row.iter().enumerate() {
            widths[i] = widths[i].max(sanitize::display_width(c));
        }
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let pad = |s: &str, w: usize, right: bool| {
        let n = w.saturating_sub(sanitize::display_width(s));
        if right {
            format!("{}{s}", " ".repeat(n))
        } else {
            format!("{s}{}", " ".repeat(n))
        }
    };
    let head: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| pad(h, widths[i], false))
        .collect();
    writeln!(out, "{}", head.join(" │ ").trim_end())?;
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    writeln!(out, "{}", rule.join("─┼─"))?;
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, (c, num))| pad(c, widths[i], *num))
            .collect();
        writeln!(out, "{}", cells.join(" │ ").trim_end())?;
    }
    let n = rs.rows.len();
    let more = if rs.truncated {
        " · more exist (raise --limit, at most 1000)"
    } else {
        ""
    };
    writeln!(
        out,
        "({n} row{}{more} · {} ms)",
        if n == 1 { "" } else { "s" },
        outcome.duration.as_millis()
    )?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn sql_the_guard_may_accept_arrives_whole() {
        let sql = format!("SELECT '{}'", "é".repeat(MAX_SQL_CHARS - 9));
        assert_eq!(sql.chars().count(), MAX_SQL_CHARS);
        match read_sql(sql.as_bytes()).unwrap() {
            StdinSql::Whole(s) => assert_eq!(s, sql),
            other => panic!("{other:?}"),
        }
        // One character more, of four bytes each, still comes back whole for the guard.
        let sql = "😀".repeat(MAX_SQL_CHARS + 1);
        assert!(matches!(read_sql(sql.as_bytes()).unwrap(), StdinSql::Whole(s) if s == sql));
    }

    #[test]
    fn a_long_input_is_hashed_whole_and_kept_as_a_prefix() {
        let sql = format!("SELECT {}1", "1+".repeat(3 << 20));
        match read_sql(sql.as_bytes()).unwrap() {
            StdinSql::Oversize { prefix, digest } => {
                assert_eq!(prefix, sql[..crate::audit::SQL_PREFIX_CHARS]);
                assert_eq!(digest.chars, sql.len() as u64);
                assert_eq!(digest.bytes, sql.len() as u64);
                assert_eq!(digest.sha256, sha(sql.as_bytes()));
                assert!(!digest.cut);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_endless_input_is_cut_and_says_so() {
        match read_sql(io::repeat(0)).unwrap() {
            StdinSql::Oversize { prefix, digest } => {
                assert_eq!(prefix.chars().count(), crate::audit::SQL_PREFIX_CHARS);
                assert_eq!(digest.bytes, READ_CAP);
                assert_eq!(digest.chars, READ_CAP);
                assert_eq!(digest.sha256, sha(&vec![0u8; READ_CAP as usize]));
                assert!(digest.cut);
            }
            other => panic!("{other:?}"),
        }
        // Exactly the cap, then the end: all of it was read.
        let exact = vec![b'x'; READ_CAP as usize];
        match read_sql(exact.as_slice()).unwrap() {
            StdinSql::Oversize { digest, .. } => assert!(!digest.cut),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stdin_that_is_not_utf8_is_refused() {
        let err = read_sql(&b"SELECT '\xff\xfe'"[..]).unwrap_err();
        assert_eq!(err.exit_code(), 10);
        assert!(err.detail().contains("UTF-8"), "{err}");
    }
}
