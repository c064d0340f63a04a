//! tdb's own log: tracing events go to `<home>/tdb.log` (0600), never to the terminal, where
//! they would tear the UI or mix with a command's output. The file is opened only when an
//! event is written, so a run that logs nothing touches nothing. `$TDB_LOG` sets the level
//! (`error`, `warn` (default), `info`, `debug`, `trace`, `off`).

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use tracing::level_filters::LevelFilter;

use crate::home::Home;

pub fn init(home: &Home) {
    let level = match std::env::var("TDB_LOG").ok().as_deref().map(str::trim) {
        Some("off") => LevelFilter::OFF,
        Some("error") => LevelFilter::ERROR,
        Some("info") => LevelFilter::INFO,
        Some("debug") => LevelFilter::DEBUG,
        Some("trace") => LevelFilter::TRACE,
        _ => LevelFilter::WARN,
    };
    if level == LevelFilter::OFF {
        return;
    }
    let path = home.log_path();
    let make_writer = move || LogFile(path.clone());
    // A second init (tests calling `cli::main` twice) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        // A log that cannot be written must not complain on the terminal, where it would
        // tear the UI or mix with a command's output.
        .log_internal_errors(false)
        .with_writer(make_writer)
        .try_init();
}

/// Opens the log for each event: events are rare, and a file that is never needed is never
/// created.
struct LogFile(PathBuf);

impl io::Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // O_NONBLOCK and O_NOFOLLOW: a FIFO put at this path would block every event until
        // a reader came, and a symlink would send the log elsewhere; only a regular file
        // gets it.
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&self.0)?;
        if !f.metadata()?.is_file() {
            return Err(io::Error::other("tdb.log is not a regular file"));
        }
        f.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
