//! Where tdb keeps its files (CONTRACT.md "Files"), and creating them with tight modes.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::core::{Error, Result};

/// The home folder and the paths inside it.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
    audit_log: PathBuf,
}

impl Home {
    /// `--home DIR`, else `$TDB_HOME`, else `$XDG_DATA_HOME/tdb`, else `~/.local/share/tdb`.
    /// The audit log is `--audit-log FILE`, else `$TDB_AUDIT_LOG`, else inside the home.
    pub fn resolve(home_flag: Option<PathBuf>, audit_flag: Option<PathBuf>) -> Result<Self> {
        let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let root = match home_flag {
            Some(p) => p,
            None => match non_empty("TDB_HOME") {
                Some(p) => PathBuf::from(p),
                None => match non_empty("XDG_DATA_HOME") {
                    Some(p) => PathBuf::from(p).join("tdb"),
                    None => match non_empty("HOME") {
                        Some(h) => PathBuf::from(h).join(".local/share/tdb"),
                        None => {
                            return Err(Error::Invalid(
                                "cannot find a home folder: set TDB_HOME or pass --home DIR".into(),
                            ));
                        }
                    },
                },
            },
        };
        let root = absolute(&root);
        let audit_log = match audit_flag.or_else(|| non_empty("TDB_AUDIT_LOG").map(PathBuf::from)) {
            Some(p) => absolute(&p),
            None => root.join("tdb_audit.jsonl"),
        };
        let home = Home { root, audit_log };
        home.check_is_folder()?;
        Ok(home)
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        let root = absolute(&root.into());
        let audit_log = root.join("tdb_audit.jsonl");
        Home { root, audit_log }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn registry_path(&self) -> PathBuf {
        self.root.join("registry.db")
    }

    pub fn audit_path(&self) -> &Path {
        &self.audit_log
    }

    pub fn key_path(&self) -> PathBuf {
        self.root.join("master.key")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// The bytes the caches of a source take (an imported file's columnar copy, all named
    /// after the source's id); 0 when it has none.
    pub fn cache_bytes(&self, source_id: &str) -> u64 {
        let Ok(entries) = fs::read_dir(self.cache_dir()) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(source_id))
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    }

    /// Where tdb writes its own log (tracing), never the terminal.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("tdb.log")
    }

    /// Creates the home (0700) if needed. An existing folder keeps its mode: `--home` may
    /// name a folder tdb did not make (`/tmp`, say), and every file tdb puts in it is 0600.
    pub fn ensure(&self) -> Result<()> {
        self.check_is_folder()?;
        create_private_dir(&self.root)
    }

    /// A home that exists must be a folder; said once for every command, the audit log and
    /// the UI included, rather than as whichever file inside it fails first.
    fn check_is_folder(&self) -> Result<()> {
        match fs::metadata(&self.root) {
            Ok(meta) if !meta.is_dir() => Err(Error::Internal(format!(
                "the home {} is not a folder: pass --home DIR (or set TDB_HOME) naming a folder, \
                 new or one tdb used before",
                self.root.display()
            ))),
            _ => Ok(()),
        }
    }

    pub fn ensure_cache_dir(&self) -> Result<PathBuf> {
        self.ensure()?;
        let dir = self.cache_dir();
        create_private_dir(&dir)?;
        Ok(dir)
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Where the user is: the working directory and their home, which validation resolves
/// typed paths against (it reads neither itself).
#[derive(Debug, Clone)]
pub struct Here {
    pub cwd: PathBuf,
    pub user_home: Option<PathBuf>,
}

impl Here {
    pub fn now() -> Here {
        Here {
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            user_home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
        }
    }

    pub fn context(&self) -> crate::core::kind::Context<'_> {
        crate::core::kind::Context {
            cwd: &self.cwd,
            user_home: self.user_home.as_deref(),
        }
    }
}

/// Creates `dir` and its parents; `dir` itself, when tdb creates it, is 0700. A folder that
/// already exists is left as it is: tdb never changes the mode of what it did not create.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(Error::Internal(format!(
                "{} is a file, not a folder; move it away, tdb keeps a folder there",
                dir.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::Internal(format!(
                "cannot read {}: {e}",
                dir.display()
            )));
        }
    }
    fs::create_dir_all(dir)
        .map_err(|e| Error::Internal(format!("cannot create the folder {}: {e}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::Internal(format!("cannot make {} private: {e}", dir.display())))
}

/// Makes sure `path` exists, creating it empty with mode 0600 if needed. A file that was
/// already there keeps its mode (tdb never changes the mode of a file it did not create);
/// one readable by others is named in tdb.log.
pub fn touch_private_file(path: &Path) -> Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "other users can read or write this file; tdb leaves its mode alone (chmod 600 it to make it private)"
                );
            }
            Ok(())
        }
        Err(e) => Err(Error::Internal(format!(
            "cannot open {}: {e}",
            path.display()
        ))),
    }
}

/// Writes a new file only if none exists (O_EXCL semantics through a hard link, so a reader
/// never sees it half-written). Returns false when another process created it first.
pub fn create_exclusive(path: &Path, contents: &[u8]) -> Result<bool> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()
    };
    let _ = fs::remove_file(&tmp);
    write().map_err(|e| Error::Internal(format!("cannot write {}: {e}", tmp.display())))?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::Internal(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_is_private() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path().join("h"));
        home.ensure().unwrap();
        let mode = fs::metadata(home.root()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let f = home.root().join("f");
        touch_private_file(&f).unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A file that was there keeps its mode.
        let theirs = home.root().join("theirs");
        fs::write(&theirs, "").unwrap();
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o644)).unwrap();
        touch_private_file(&theirs).unwrap();
        assert_eq!(
            fs::metadata(&theirs).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn an_existing_folder_keeps_its_mode_and_a_file_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("shared");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Home::at(&dir).ensure().unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);

        let file = t.path().join("passwd");
        fs::write(&file, "root:x:0:0\n").unwrap();
        let err = Home::at(&file).ensure().unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.detail().contains(file.to_str().unwrap()), "{err}");
        assert!(err.detail().contains("not a folder"), "{err}");
        assert!(create_private_dir(&file).is_err());
    }

    #[test]
    fn exclusive_create_keeps_the_first() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("k");
        assert!(create_exclusive(&p, b"one").unwrap());
        assert!(!create_exclusive(&p, b"two").unwrap());
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
