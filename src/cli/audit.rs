//! `tdb audit`: read and check the audit log; and the registry events it records.

use clap::{Args, Subcommand};
use serde_json::Value as Json;

use super::Context;
use super::output::{print_json, print_table};
use crate::audit::{AuditLog, Event, Verification};
use crate::core::source::SourceRecord;
use crate::core::{Error, Result};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  tdb audit --tail 20
  tdb audit --json | jq 'select(.event == \"query_rejected\")'
  tdb audit verify")]
pub struct AuditArgs {
    /// Only the last N lines
    #[arg(long, value_name = "N")]
    tail: Option<usize>,
    #[command(subcommand)]
    command: Option<AuditCommand>,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every line and the hash chain; names the first broken line
    Verify,
}

pub fn run(ctx: &Context, args: AuditArgs) -> Result<()> {
    let log = AuditLog::new(ctx.home.audit_path());
    match args.command {
        Some(AuditCommand::Verify) => verify(ctx, &log),
        None => show(ctx, &log, args.tail),
    }
}

fn show(ctx: &Context, log: &AuditLog, tail: Option<usize>) -> Result<()> {
    let lines = log.tail(tail)?;
    if ctx.json {
        for line in &lines {
            print_json(line)?;
        }
        return Ok(());
    }
    if lines.is_empty() {
        println!("the audit log is empty ({})", log.path().display());
        return Ok(());
    }
    let text = |v: &Json, k: &str| match v.get(k) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let what = match l.get("event").and_then(Json::as_str) {
                Some("query") => text(l, "sql"),
                Some("query_rejected") | Some("query_failed") => {
                    format!("{} — {}", text(l, "sql"), text(l, "detail"))
                }
                Some("source_registered") => text(l, "source_type"),
                Some("source_updated") => match l.get("changed").and_then(Json::as_array) {
                    Some(names) => names
                        .iter()
                        .filter_map(Json::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => String::new(),
                },
                Some("query_started") => text(l, "sql"),
                Some("source_deleted") => {
                    if l.get("purged") == Some(&Json::Bool(true)) {
                        "purged".into()
                    } else {
                        String::new()
                    }
                }
                _ => String::new(),
            };
            let what: String = what.split_whitespace().collect::<Vec<_>>().join(" ");
            vec![
                text(l, "seq"),
                text(l, "timestamp"),
                text(l, "event"),
                text(l, "source_name"),
                text(l, "rows_returned"),
                text(l, "actor"),
                crate::core::sanitize::truncate_to_width(&what, 80).into_owned(),
            ]
        })
        .collect();
    print_table(
        &[
            "SEQ",
            "TIME",
            "EVENT",
            "SOURCE",
            "ROWS",
            "ACTOR",
            "SQL / DETAIL",
        ],
        &rows,
    )
}

fn verify(ctx: &Context, log: &AuditLog) -> Result<()> {
    match log.verify()? {
        Verification::Intact { lines } => {
            if ctx.json {
                print_json(&serde_json::json!({"ok": true, "lines": lines, "path": log.path()}))
            } else {
                println!(
                    "audit log intact: {lines} line{} ({})",
                    if lines == 1 { "" } else { "s" },
                    log.path().display()
                );
                Ok(())
            }
        }
        Verification::Broken { line, reason } => {
            if ctx.json {
                print_json(
                    &serde_json::json!({"ok": false, "line": line, "detail": reason, "path": log.path()}),
                )?;
            }
            Err(Error::Internal(format!(
                "audit log broken at line {line}: {reason} ({})",
                log.path().display()
            )))
        }
    }
}

/// Registry changes are audited too; a failure to audit is reported but does not undo them.
pub fn source_registered(ctx: &Context, rec: &SourceRecord) {
    record(ctx, &Event::source_registered(rec));
}

/// `before` and `after` are the record around the change; the password is compared by the
/// caller, which can read it.
pub fn source_updated(
    ctx: &Context,
    before: &SourceRecord,
    after: &SourceRecord,
    password_changed: bool,
) {
    record(ctx, &Event::source_updated(before, after, password_changed));
}

pub fn source_deleted(ctx: &Context, rec: &SourceRecord, purged: bool) {
    record(ctx, &Event::source_deleted(rec, purged));
}

fn record(ctx: &Context, event: &Event) {
    if let Err(e) = AuditLog::new(ctx.home.audit_path()).record(event) {
        eprintln!("warning: could not write the audit log: {e}");
    }
}
