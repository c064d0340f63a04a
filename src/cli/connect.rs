//! `tdb source schema` and `tdb source test`: the commands that reach a live source.

use serde_json::json;

use super::Context;
use super::output::{print_json, print_table};
use crate::backend::engine::Engine;
use crate::core::Result;

pub fn schema(ctx: &Context, reference: &str) -> Result<()> {
    let mut engine = Engine::open(&ctx.home)?;
    let rt = super::runtime()?;
    let progress = super::progress::import_bar(ctx);
    let outcome = rt.block_on(engine.schema(reference, progress.callback()));
    progress.finish();
    let (source, info) = outcome?;
    if ctx.json {
        let mut v = json!({
            "source_id": source.id,
            "source_name": source.name,
            "columns": info.columns,
            "inspected_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        if !info.about.is_empty() {
            v["table"] = json!(info.about);
        }
        if let Some(tables) = &info.tables {
            v["tables"] = json!(tables);
        }
        return print_json(&v);
    }
    if let Some(about) = info.about.summary() {
        println!("data: {about}");
    }
    if !info.columns.is_empty() {
        let rows: Vec<Vec<String>> = info
            .columns
            .iter()
            .map(|c| vec![c.name.clone(), c.type_name.clone()])
            .collect();
        print_table(&["COLUMN", "TYPE"], &rows)?;
    }
    if let Some(tables) = &info.tables {
        if tables.is_empty() {
            println!("no tables or views visible to this user");
        }
        let rows: Vec<Vec<String>> = tables
            .iter()
            .flat_map(|t| {
                t.columns.iter().map(move |c| {
                    vec![
                        format!("{}.{}", t.schema, t.name),
                        c.name.clone(),
                        c.type_name.clone(),
                    ]
                })
            })
            .collect();
        print_table(&["TABLE", "COLUMN", "TYPE"], &rows)?;
        let about: Vec<Vec<String>> = tables
            .iter()
            .filter_map(|t| Some(vec![format!("{}.{}", t.schema, t.name), t.about.summary()?]))
            .collect();
        if !about.is_empty() {
            println!();
            print_table(&["TABLE", "ENGINE"], &about)?;
        }
    }
    Ok(())
}

pub fn test(ctx: &Context, reference: &str) -> Result<()> {
    let mut engine = Engine::open(&ctx.home)?;
    let rt = super::runtime()?;
    let (source, elapsed, outcome) = rt.block_on(engine.test(reference))?;
    let latency_ms = (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    let detail = match &outcome {
        Ok(_) => "ok".to_string(),
        Err(e) => e.detail().to_string(),
    };
    let warnings = match &outcome {
        Ok(report) => report.warnings.clone(),
        Err(_) => Vec::new(),
    };
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    // Through SSH: the tunnel's start and the database's part, apart.
    let tunnel = outcome.as_ref().ok().and_then(|r| r.tunnel.as_ref());
    if ctx.json {
        let mut v = json!({
            "source_id": source.id,
            "ok": outcome.is_ok(),
            "latency_ms": latency_ms,
            "status": source.status.as_str(),
            "detail": detail,
            "warnings": warnings,
        });
        if let Some(t) = tunnel {
            let setup = t.setup.map(ms);
            v["tunnel"] = json!({
                "via": t.via,
                "setup_ms": setup,
                "database_ms": setup.map_or(latency_ms, |s| ((latency_ms - s) * 10.0).round() / 10.0),
            });
        }
        print_json(&v)?;
    } else {
        match &outcome {
            Ok(_) => {
                let hop = match tunnel {
                    Some(t) => match t.setup.map(ms) {
                        Some(s) => format!(
                            "; ssh {} came up in {s} ms, the database answered in {:.1} ms",
                            t.via,
                            (latency_ms - s).max(0.0)
                        ),
                        None => format!("; through ssh {} (already up)", t.via),
                    },
                    None => String::new(),
                };
                println!(
                    "{}: reachable in {latency_ms} ms (status {}){}",
                    super::output::for_terminal(&source.name),
                    source.status.as_str(),
                    super::output::for_terminal(&hop)
                );
                for w in &warnings {
                    println!("warning: {}", super::output::for_terminal(w));
                }
            }
            Err(_) => println!(
                "{}: NOT reachable (status {}): {}",
                super::output::for_terminal(&source.name),
                source.status.as_str(),
                super::output::for_terminal(&detail)
            ),
        }
    }
    // The result is on stdout; the error also goes to stderr with its exit code (13).
    outcome.map(drop)
}
