//! Esc during a CSV import: the backend stops the import behind a schema read as it stops
//! a query, and answers the read as cancelled.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::process::add_csv_source;
use tdb::backend::protocol::{Request, RequestId, Response};

/// Long enough for a loaded machine; only a failure waits this long.
const PATIENCE: Duration = Duration::from_secs(120);

#[test]
fn a_cancel_stops_the_import_behind_a_schema_read() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(f, "n,label").unwrap();
    // Seconds of importing: far more than the first progress report needs.
    for n in 0..3_000_000 {
        writeln!(f, "{n},row number {n}").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let home = dir.path().join("home");
    add_csv_source(&home, "big", &csv);
    let (rt, mut h) = common::backend::start(&home, dir.path());
    let id = RequestId(7);
    h.requests
        .send(Request::Schema {
            id,
            source_id: "big".into(),
        })
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    let mut cancelled_at = None;
    let result = loop {
        assert!(Instant::now() < deadline, "no answer to the schema read");
        match h.responses.try_recv() {
            Ok(Response::Progress { id: p, progress }) if p == id && cancelled_at.is_none() => {
                assert!(
                    !progress.done,
                    "the import finished before it could be cancelled"
                );
                h.requests.send(Request::Cancel { id }).unwrap();
                cancelled_at = Some(progress.rows);
            }
            Ok(Response::Schema { id: s, result, .. }) if s == id => break result,
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    assert!(
        cancelled_at.is_some(),
        "no progress was reported: {result:?}"
    );
    match result {
        Err(e) => assert!(e.detail().ends_with("import cancelled"), "{e:?}"),
        Ok(_) => panic!("the import was not stopped"),
    }
    rt.block_on(h.shutdown(Duration::from_secs(5)));
}
