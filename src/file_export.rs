//! Writing a whole result to a file the user named, as the UI's export prompt and the file
//! fallback of the clipboard do.
//!
//! A file is never seen half-written: the data goes to a temporary file in the same folder,
//! which is synced and then renamed (or linked, when an existing file must be kept) into
//! place, so a crash, a full disk or a second tdb leaves either the old file or the whole new
//! one, and no temporary file on any error. Files are created with mode 0600: exports hold
//! data from production databases, often on a shared bastion host. A file that is replaced
//! keeps the mode it had: that one was the user's choice.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::core::export::{self, Format, Scope};
use crate::core::value::ResultSet;
use crate::core::{Error, Result};

/// Writes all of `rs` to `path` in `format` (the rules of [`crate::core::export`]; CSV, JSON
/// and JSON lines are the usual choices) and returns the number of bytes written. `~/` at
/// the start of `path` is the user's home. An existing file is replaced only when
/// `overwrite` is true; otherwise the answer is [`Error::Conflict`], so the UI can ask.
///
/// Blocking file I/O: the UI calls it from its backend, never from the drawing thread.
pub fn export_to_file(
    rs: &ResultSet,
    path: &Path,
    format: Format,
    overwrite: bool,
) -> Result<usize> {
    write_atomic(path, overwrite, |w| {
        export::write(w, rs, Scope::All, format)
    })
}

/// `~` or `~/…` made absolute with the home folder (`$HOME`); other paths are returned as
/// they are (`~user/` is not expanded: tdb runs as one user).
pub fn expand_tilde(path: &Path) -> PathBuf {
    let Ok(rest) = path.strip_prefix("~") else {
        return path.to_path_buf();
    };
    match dirs::home_dir() {
        Some(home) if rest.as_os_str().is_empty() => home,
        Some(home) => home.join(rest),
        None => path.to_path_buf(),
    }
}

/// Sets temporary file names apart when one process exports twice at once (two backend
/// tasks); the pid sets processes apart.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes what `fill` produces to `path` through a temporary file (see the module doc).
/// Returns the bytes written.
pub fn write_atomic(
    path: &Path,
    overwrite: bool,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<usize> {
    let mut file = AtomicFile::create(path, overwrite)?;
    fill(&mut file).map_err(|e| file.write_error(e))?;
    file.commit()
}

/// A file written whole or not at all (see the module doc), for writers that write as
/// they go (`tdb query --all --output`, an export of every row): the data goes to a
/// temporary file until [`AtomicFile::commit`]; dropped before, it leaves nothing.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    overwrite: bool,
    out: Option<Counting>,
}

impl AtomicFile {
    /// Checks `path` (`~` expanded; an existing file is [`Error::Conflict`] unless
    /// `overwrite`) and opens the temporary file next to it.
    pub fn create(path: &Path, overwrite: bool) -> Result<AtomicFile> {
        let path = expand_tilde(path);
        let Some(name) = path.file_name() else {
            return Err(Error::Invalid(format!(
                "{:?} is not a file name: give a path such as result.csv",
                path.display().to_string()
            )));
        };
        if path.is_dir() {
            return Err(Error::Invalid(format!(
                "{} is a folder: give a file name inside it",
                path.display()
            )));
        }
        if !overwrite && fs::symlink_metadata(&path).is_ok() {
            return Err(exists(&path));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Error::Invalid(format!(
                "the folder {} does not exist",
                dir.display()
            )));
        }
        let tmp = dir.join(format!(
            ".{}.{}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| io_error("cannot create a file in", &dir, e))?;
        Ok(AtomicFile {
            path,
            tmp,
            overwrite,
            out: Some(Counting {
                inner: BufWriter::new(file),
                bytes: 0,
            }),
        })
    }

    /// Where the file goes (`~` expanded).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A write failure as the user reads it.
    pub fn write_error(&self, e: io::Error) -> Error {
        io_error("cannot write", &self.path, e)
    }

    /// Syncs the data and puts the file in place; returns the bytes written.
    pub fn commit(mut self) -> Result<usize> {
        let Some(out) = self.out.take() else {
            return Err(Error::Internal("the export file was already closed".into()));
        };
        let bytes = out.bytes;
        let file = out
            .inner
            .into_inner()
            .map_err(|e| io_error("cannot write", &self.path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| io_error("cannot write", &self.path, e))?;
        drop(file);
        place(&self.tmp, &self.path, self.overwrite)?;
        // Placed: nothing is left to remove.
        self.tmp = PathBuf::new();
        Ok(bytes)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            Some(out) => out.write(buf),
            None => Err(io::Error::other("the export file was already closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

/// Deletes the temporary file on every early return, on a cancelled export and on a panic
/// while writing.
impl Drop for AtomicFile {
    fn drop(&mut self) {
        self.out = None;
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Moves the finished temporary file to `path`. Without `overwrite`, a hard link makes
/// "create only if absent" atomic; on a file system without hard links, a check then a
/// rename is the best that is left.
fn place(tmp: &Path, path: &Path, overwrite: bool) -> Result<()> {
    if overwrite {
        // A file that was there keeps its mode: tdb picks the mode only of files it creates.
        if let Ok(meta) = fs::symlink_metadata(path)
            && meta.is_file()
        {
            let mode = meta.permissions().mode() & 0o777;
            fs::set_permissions(tmp, fs::Permissions::from_mode(mode))
                .map_err(|e| io_error("cannot write", path, e))?;
        }
        return fs::rename(tmp, path).map_err(|e| io_error("cannot write", path, e));
    }
    match fs::hard_link(tmp, path) {
        Ok(()) => {
            let _ = fs::remove_file(tmp);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists(path)),
        Err(_) if fs::symlink_metadata(path).is_ok() => Err(exists(path)),
        Err(_) => fs::rename(tmp, path).map_err(|e| io_error("cannot write", path, e)),
    }
}

fn exists(path: &Path) -> Error {
    Error::Conflict(format!(
        "{} already exists: choose another name or allow overwriting it",
        path.display()
    ))
}

/// Problems with the path the user gave are invalid input they can fix; the rest (a full
/// disk) are reported as they are.
fn io_error(what: &str, path: &Path, e: io::Error) -> Error {
    let msg = format!("{what} {}: {e}", path.display());
    match e.kind() {
        io::ErrorKind::NotFound
        | io::ErrorKind::PermissionDenied
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::NotADirectory
        | io::ErrorKind::ReadOnlyFilesystem
        | io::ErrorKind::InvalidFilename => Error::Invalid(msg),
        _ => Error::Internal(msg),
    }
}

struct Counting {
    inner: BufWriter<File>,
    bytes: usize,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn writes_whole_file_private() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("out.txt");
        let n = write_atomic(&p, false, |w| w.write_all(b"hello")).unwrap();
        assert_eq!(n, 5);
        assert_eq!(fs::read(&p).unwrap(), b"hello");
        let mode = fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(leftovers(t.path()).is_empty());
    }

    #[test]
    fn failing_writer_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("out.txt");
        let err = write_atomic(&p, false, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert!(!p.exists());
        assert!(leftovers(t.path()).is_empty());
    }

    #[test]
    fn keeps_existing_unless_asked() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("out.txt");
        fs::write(&p, "old").unwrap();
        let err = write_atomic(&p, false, |w| w.write_all(b"new")).unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        write_atomic(&p, true, |w| w.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert!(leftovers(t.path()).is_empty());
    }

    #[test]
    fn a_replaced_file_keeps_its_mode() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("shared.csv");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, true, |w| w.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        let mode = fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn bad_paths_are_explained() {
        let t = tempfile::tempdir().unwrap();
        let err = write_atomic(t.path(), true, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        let err = write_atomic(&t.path().join("no/such/x.csv"), true, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let err = write_atomic(Path::new(""), true, |_| Ok(())).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    }

    #[test]
    fn tilde_is_home() {
        let home = dirs::home_dir().unwrap();
        assert_eq!(expand_tilde(Path::new("~/x/y.csv")), home.join("x/y.csv"));
        assert_eq!(expand_tilde(Path::new("~")), home);
        assert_eq!(expand_tilde(Path::new("~bob/x")), PathBuf::from("~bob/x"));
        assert_eq!(expand_tilde(Path::new("/a/~/b")), PathBuf::from("/a/~/b"));
        assert_eq!(expand_tilde(Path::new("rel.csv")), PathBuf::from("rel.csv"));
    }
}
