//! `tdb query`: one guarded, read-only query (seed 002 "Run a query").

use std::io::{self, IsTerminal, Read, Write};

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::Context;
use super::output::{for_terminal, print_json};
use crate::core::export::{Format, RowWriter};
use crate::core::guard::DEFAULT_LIMIT;
use crate::core::sanitize;
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
use crate::engine::{Engine, QueryOutcome};

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
    /// The SQL ("-" reads it from stdin)
    #[arg(long, value_name = "SQL")]
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
}

pub fn run(ctx: &Context, args: QueryArgs) -> Result<()> {
    if ctx.json && (args.csv || args.tsv) {
        return Err(Error::Invalid(
            "choose one output format: --json, --csv or --tsv".into(),
        ));
    }
    let sql = if args.sql == "-" {
        let mut s = String::new();
        io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::Invalid(format!("sql: cannot read stdin: {e}")))?;
        s
    } else {
        args.sql
    };
    let mut engine = Engine::open(&ctx.home)?;
    let limit = crate::core::guard::check_limit(args.limit)?;
    let planned = engine.plan(&args.source, &sql, limit)?;
    let ticket = planned.ticket();
    let rt = super::runtime()?;
    let cancel = CancellationToken::new();
    let progress = super::progress::import_bar(ctx);
    let outcome = rt.block_on(async {
        let run = planned.run(cancel.clone(), progress.callback());
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r,
            _ = tokio::signal::ctrl_c() => {
                cancel.cancel();
                run.await
            }
        }
    });
    progress.finish();
    engine.settle_query(&ticket, &outcome);
    let outcome = outcome?;
    if ctx.json {
        print_json(&outcome)
    } else if args.csv {
        write_rows(&outcome.result, Format::Csv)
    } else if args.tsv {
        write_rows(&outcome.result, Format::Tsv)
    } else {
        print_human(&outcome)
    }
}

/// Streams the result row by row in `format` (CSV or TSV) with the same writer the clipboard
/// and export files use. Data goes out raw when redirected; on a terminal, escapes are made
/// visible.
fn write_rows(rs: &ResultSet, format: Format) -> Result<()> {
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    let mut w = RowWriter::new(io::BufWriter::new(stdout.lock()), format);
    if tty {
        w = w.with_text_filter(sanitize::for_terminal);
    }
    let names: Vec<&str> = rs.columns.iter().map(|c| c.name.as_str()).collect();
    let write = || -> io::Result<()> {
        w.header(&names)?;
        for row in &rs.rows {
            w.row(row)?;
        }
        w.finish()?.flush()
    };
    write().map_err(|e| Error::Internal(format!("cannot write {}: {e}", format.label())))
}

/// Widest a column gets in the human table; the machine formats keep everything.
const MAX_CELL_WIDTH: usize = 60;

fn print_human(outcome: &QueryOutcome) -> Result<()> {
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
