//! Finding and loading DuckDB's library, once per process.
//!
//! tdb does not compile DuckDB (its C++ takes most of an hour on a 2-core machine); it loads
//! the official prebuilt `libduckdb.so` of one pinned version. The build fetches it
//! (`build.rs`, into `target/duckdb/`), and a binary copied elsewhere finds it beside itself
//! or where `TDB_DUCKDB_LIB` says.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::ffi::Api;
use crate::core::{Error, Result};

/// The DuckDB release tdb is written against (the C API's layouts are checked against it).
pub const VERSION: &str = "1.5.6";
/// Names the library's path when it is not in one of the usual places.
pub const ENV: &str = "TDB_DUCKDB_LIB";
const FILE: &str = "libduckdb.so";

/// Where to look, in order: `$TDB_DUCKDB_LIB`, beside the binary, `../lib` of the binary,
/// where the build put it.
fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os(ENV) {
        out.push(PathBuf::from(p));
        return out;
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        out.push(dir.join(FILE));
        out.push(dir.join("..").join("lib").join(FILE));
        // Test binaries live one folder further down (`target/debug/deps`).
        out.push(dir.join("..").join(FILE));
    }
    if let Some(built) = option_env!("TDB_DUCKDB_BUILT") {
        out.push(PathBuf::from(built));
    }
    out
}

fn load() -> std::result::Result<Api, String> {
    let tried = candidates();
    for path in &tried {
        if !path.is_file() {
            continue;
        }
        // SAFETY: loading runs the library's initialisers; this is DuckDB's own release,
        // found at a path the user or the build chose.
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        // SAFETY: the symbols are DuckDB's C API; the version is checked right after.
        let api = unsafe { Api::load(lib) }
            .map_err(|e| format!("{} lacks a DuckDB {VERSION} symbol: {e}", path.display()))?;
        // SAFETY: returns a static C string.
        let version = unsafe { std::ffi::CStr::from_ptr((api.duckdb_library_version)()) }
            .to_string_lossy()
            .into_owned();
        if version.trim_start_matches('v') != VERSION {
            return Err(format!(
                "{} is DuckDB {version}; tdb needs {VERSION}",
                path.display()
            ));
        }
        return Ok(api);
    }
    Err(format!(
        "DuckDB {VERSION}'s library ({FILE}) is not installed: looked in {}. `cargo build` \
         fetches it into target/duckdb/; or set {ENV} to its path",
        tried
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The loaded API, or why there is none (the same answer for the life of the process).
pub fn api() -> Result<&'static Api> {
    static API: OnceLock<std::result::Result<Api, String>> = OnceLock::new();
    API.get_or_init(load)
        .as_ref()
        .map_err(|e| Error::Unreachable(e.clone()))
}
