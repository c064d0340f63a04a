//! The files a file source names: one path, or a glob (`logs/*.parquet`) whose every match
//! is read as one table. Only regular files count: a FIFO or a device that matches is
//! refused, so a query can never hang on one.

use std::path::{Path, PathBuf};

use crate::core::regular_file::stat_regular;
use crate::core::{Error, Result};

/// The files matched now, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSet {
    pub paths: Vec<PathBuf>,
}

/// Whether `path` is a pattern rather than a file's name.
pub fn is_glob(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// The regular files `path` names now; the error says why there are none.
pub fn matching_files(path: &Path) -> std::result::Result<FileSet, String> {
    if !is_glob(path) {
        stat_regular(path).map_err(|e| e.reason())?;
        return Ok(FileSet {
            paths: vec![path.to_path_buf()],
        });
    }
    let pattern = path.to_string_lossy();
    let matches = glob::glob(&pattern).map_err(|e| format!("not a valid glob: {e}"))?;
    let mut paths = Vec::new();
    for entry in matches {
        let p = entry.map_err(|e| e.to_string())?;
        match stat_regular(&p) {
            Ok(_) => paths.push(p),
            // A folder matching `*` is not a file of the set.
            Err(crate::core::regular_file::OpenError::NotRegular("a directory")) => {}
            Err(e) => return Err(format!("{}: {}", p.display(), e.reason())),
        }
    }
    if paths.is_empty() {
        return Err("no file matches the pattern".into());
    }
    paths.sort();
    Ok(FileSet { paths })
}

/// A path checked when the source is stored: a file must exist and is kept with its links
/// resolved; a glob must match at least one file now and is kept as written.
pub fn admit_files(path: &Path) -> Result<PathBuf> {
    if is_glob(path) {
        matching_files(path)
            .map_err(|why| Error::Invalid(format!("connection.path: {why}: {}", path.display())))?;
        return Ok(path.to_path_buf());
    }
    let (_, real) = crate::connector::admit_file(path)?;
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_reads_every_regular_match_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.parquet", "a.parquet", "c.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("d.parquet")).unwrap();
        let set = matching_files(&dir.path().join("*.parquet")).unwrap();
        let names: Vec<_> = set
            .paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.parquet", "b.parquet"]);
        let e = matching_files(&dir.path().join("*.json")).unwrap_err();
        assert_eq!(e, "no file matches the pattern");
        let e = admit_files(&dir.path().join("none-*.json")).unwrap_err();
        assert!(
            e.detail().starts_with("connection.path: no file matches"),
            "{e}"
        );
        assert_eq!(
            matching_files(&dir.path().join("gone.parquet")).unwrap_err(),
            "no such file"
        );
    }
}
