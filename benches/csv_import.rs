//! CSV import benchmark, driven by `benches/csv_bench.sh` (one process per measurement, so
//! each peak-memory figure is that step's own).
//!
//! ```text
//! csv_import gen FILE ROWS        write a reproducible orders CSV
//! csv_import first FILE HOME      cold: import + the query, through the connector
//! csv_import warm FILE HOME [N]   the query N times on the existing cache (median)
//! ```
//!
//! Each measuring command prints `key=value` lines (seconds, rows/s, peak RSS in KiB from
//! VmHWM) for the script to collect.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tdb::connector::Connector;
use tdb::connector::csv::CsvConnector;
use tdb::connector::csv::{Csv, CsvConnection};
use tdb::core::guard;
use tdb::core::kind::KindRules;
use tdb::core::progress::Progress;
use tdb::core::source::{SourceRecord, Status};
use tdb::home::Home;
use tokio_util::sync::CancellationToken;

const QUERY: &str = "SELECT status, count(*), sum(total) FROM data GROUP BY status";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen", file, rows] => generate(Path::new(file), rows.parse().unwrap_or(1_000_000)),
        ["first", file, home] => first(Path::new(file), Path::new(home)),
        ["warm", file, home] => warm(Path::new(file), Path::new(home), 5),
        ["warm", file, home, n] => warm(Path::new(file), Path::new(home), n.parse().unwrap_or(5)),
        _ => {
            eprintln!("usage: csv_import gen FILE ROWS | first FILE HOME | warm FILE HOME [N]");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("csv_import: {e}");
        std::process::exit(1);
    }
}

/// xorshift64*: reproducible across runs and machines.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn generate(path: &Path, rows: u64) -> Result<(), Box<dyn std::error::Error>> {
    const STATUSES: &[&str] = &[
        "pending",
        "paid",
        "shipped",
        "delivered",
        "cancelled",
        "refunded",
    ];
    const COUNTRIES: &[&str] = &[
        "US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "ES", "IT", "NL", "SE",
    ];
    const FIRST: &[&str] = &[
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    const DOMAINS: &[&str] = &[
        "example.com",
        "mail.test",
        "corp.example.org",
        "shop.example",
    ];
    const NOTES: &[&str] = &[
        "",
        "Leave at the door, ring twice",
        "Customer said \"urgent\"",
        "gift wrap",
        "Call before delivery, ask for \"Sam\", back entrance",
        "fragile; handle with care",
        "n/a",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "id,customer_id,total,status,country,email,created_at,note"
    )?;
    for id in 1..=rows {
        let cents = rng.below(10_000_000);
        let secs = rng.below(3 * 365 * 86_400);
        let (d, s) = (secs / 86_400, secs % 86_400);
        // Days since 2023-01-01 as a rough calendar (28-day months keep every date valid).
        let (y, m, day) = (2023 + d / 336, 1 + (d % 336) / 28, 1 + d % 28);
        let note = rng.pick(NOTES);
        let note = if note.contains([',', '"']) {
            format!("\"{}\"", note.replace('"', "\"\""))
        } else {
            note.to_string()
        };
        writeln!(
            w,
            "{id},{},{}.{:02},{},{},{}.{}{}@{},{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}Z,{note}",
            1 + rng.below(50_000),
            cents / 100,
            cents % 100,
            rng.pick(STATUSES),
            rng.pick(COUNTRIES),
            rng.pick(FIRST),
            rng.pick(FIRST),
            rng.below(1000),
            rng.pick(DOMAINS),
            s / 3600,
            (s / 60) % 60,
            s % 60,
        )?;
    }
    w.flush()?;
    Ok(())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn connector(file: &Path, home: &Path) -> Result<CsvConnector, Box<dyn std::error::Error>> {
    let path = std::fs::canonicalize(file)?;
    let spec = CsvConnection {
        path: path.clone(),
        delimiter: ',',
        has_header: true,
    };
    let record = SourceRecord {
        id: "bench".into(),
        name: "bench".into(),
        connection: Csv::connection(&spec).unwrap(),
        has_password: false,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "bench".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    };
    Ok(CsvConnector::new(
        &record,
        spec,
        &Home::at(PathBuf::from(home)),
    )?)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

fn first(file: &Path, home: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _ = std::fs::remove_dir_all(home.join("cache"));
    let conn = connector(file, home)?;
    let rows = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = Arc::clone(&rows);
    let progress = Arc::new(move |p: Progress| {
        if p.done {
            seen.store(p.rows, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let rt = runtime()?;
    let t0 = Instant::now();
    rt.block_on(conn.prepare(Some(progress), CancellationToken::new()))?;
    let import = t0.elapsed().as_secs_f64();
    let rs = rt.block_on(conn.query(&query(), CancellationToken::new()))?;
    let total = t0.elapsed().as_secs_f64();
    let rows = rows.load(std::sync::atomic::Ordering::Relaxed);
    let cache_bytes = std::fs::metadata(conn.cache_path()?)
        .map(|m| m.len())
        .unwrap_or(0);
    println!("rows={rows}");
    println!("groups={}", rs.rows.len());
    println!("import_s={import:.3}");
    println!("first_query_s={total:.3}");
    println!("rows_per_s={:.0}", rows as f64 / import);
    println!("cache_bytes={cache_bytes}");
    println!("peak_rss_kib={}", peak_rss_kib());
    Ok(())
}

fn warm(file: &Path, home: &Path, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let conn = connector(file, home)?;
    let rt = runtime()?;
    // Fails loudly rather than timing an import.
    if !conn.cache_path()?.exists() {
        return Err("no cache: run `first` before `warm`".into());
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let t0 = Instant::now();
        let rs = rt.block_on(conn.query(&query(), CancellationToken::new()))?;
        times.push(t0.elapsed().as_secs_f64());
        std::hint::black_box(rs);
    }
    times.sort_by(f64::total_cmp);
    println!("warm_query_s={:.4}", times[times.len() / 2]);
    println!("warm_query_min_s={:.4}", times[0]);
    println!("peak_rss_kib={}", peak_rss_kib());
    Ok(())
}

/// The bench's query as the guard passes it on.
fn query() -> guard::Guarded {
    match guard::guard(QUERY, &tdb::connector::csv::KIND.policy(), None, 100) {
        Ok(g) => g,
        Err(e) => panic!("the bench's query was refused: {e}"),
    }
}
