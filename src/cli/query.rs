//! `tdb query`: one guarded, read-only query (seed 002 "Run a query").

use std::io::{self, IsTerminal, Read, Write};

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::Context;
use super::output::{for_terminal, print_json};
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
    let source_id = planned.source.id.clone();
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
    engine.settle(&source_id, &outcome);
    let outcome = outcome?;
    if ctx.json {
        print_json(&outcome.to_json())
    } else if args.csv {
        write_csv(&outcome.result)
    } else if args.tsv {
        write_tsv(&outcome.result)
    } else {
        print_human(&outcome)
    }
}

/// Data goes out raw when redirected; on a terminal, escapes are made visible.
fn cell_text(text: &str, tty: bool) -> std::borrow::Cow<'_, str> {
    if tty {
        for_terminal(text)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn write_csv(rs: &ResultSet) -> Result<()> {
    let tty = io::stdout().is_terminal();
    let mut w = csv::Writer::from_writer(io::stdout().lock());
    let io_err = |e: csv::Error| Error::Internal(format!("cannot write CSV: {e}"));
    w.write_record(
        rs.columns
            .iter()
            .map(|c| cell_text(&c.name, tty).into_owned()),
    )
    .map_err(io_err)?;
    for row in &rs.rows {
        w.write_record(row.iter().map(|v| {
            v.to_text()
                .map(|t| cell_text(&t, tty).into_owned())
                .unwrap_or_default()
        }))
        .map_err(io_err)?;
    }
    w.flush()?;
    Ok(())
}

/// TSV has no quoting, so the separators inside values are escaped.
pub fn tsv_escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['\t', '\n', '\r', '\\']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn write_tsv(rs: &ResultSet) -> Result<()> {
    let tty = io::stdout().is_terminal();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let header: Vec<String> = rs
        .columns
        .iter()
        .map(|c| cell_text(&tsv_escape(&c.name), tty).into_owned())
        .collect();
    writeln!(out, "{}", header.join("\t"))?;
    for row in &rs.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|v| {
                v.to_text()
                    .map(|t| cell_text(&tsv_escape(&t), tty).into_owned())
                    .unwrap_or_default()
            })
            .collect();
        writeln!(out, "{}", cells.join("\t"))?;
    }
    out.flush()?;
    Ok(())
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
