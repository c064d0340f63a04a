//! Fetches DuckDB's prebuilt library (the file kinds' engine) once, pinned by version and
//! SHA-256, into `target/duckdb/<version>/`, and bakes that path into the binary. tdb loads
//! it at run time, so nothing of DuckDB is compiled here (its C++ takes most of an hour on a
//! 2-core machine). Offline, the build still succeeds with a warning: the file kinds then
//! say how to get the library when used.

use std::path::{Path, PathBuf};
use std::process::Command;

const VERSION: &str = "1.5.6";
/// The official build, as DuckDB publishes it for Node (the same `libduckdb.so` as its C
/// API release), from the npm registry.
const PACKAGES: &[(&str, &str, &str)] = &[
    (
        "x86_64",
        "https://registry.npmjs.org/@duckdb/node-bindings-linux-x64/-/node-bindings-linux-x64-1.5.6-r.1.tgz",
        "1b9f82478539bb9a1d1df44bd103121a12ae52142c07158dc52b97d2ec1d69ff",
    ),
    (
        "aarch64",
        "https://registry.npmjs.org/@duckdb/node-bindings-linux-arm64/-/node-bindings-linux-arm64-1.5.6-r.1.tgz",
        "3a45a6305b3235a781ed9de25aa795a3862acd042782d1f864e1bdb656de212b",
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TDB_DUCKDB_LIB");
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    // OUT_DIR is <target>/<profile>/build/<crate>/out: the library is shared by profiles.
    let Some(target) = out.ancestors().nth(4) else {
        return;
    };
    let dir = target.join("duckdb").join(VERSION);
    let lib = dir.join("libduckdb.so");
    println!("cargo:rustc-env=TDB_DUCKDB_BUILT={}", lib.display());
    println!("cargo:rerun-if-changed={}", lib.display());
    if lib.is_file() || std::env::var_os("TDB_DUCKDB_LIB").is_some() {
        return;
    }
    if let Err(e) = fetch(&dir, &lib) {
        println!(
            "cargo:warning=DuckDB {VERSION}'s library could not be fetched ({e}); the file \
             kinds (parquet, json, excel, duckdb, csv) need it: build again when online, or \
             set TDB_DUCKDB_LIB to a libduckdb.so {VERSION}"
        );
    }
}

fn fetch(dir: &Path, lib: &Path) -> Result<(), String> {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let Some((_, url, sha)) = PACKAGES
        .iter()
        .find(|(a, _, _)| *a == arch && os == "linux")
    else {
        return Err(format!("no prebuilt library is pinned for {os}/{arch}"));
    };
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let tgz = dir.join("package.tgz");
    run(Command::new("curl")
        .args(["-sSfL", "--retry", "3", "--connect-timeout", "20", "-o"])
        .arg(&tgz)
        .arg(url))?;
    let out = Command::new("sha256sum")
        .arg(&tgz)
        .output()
        .map_err(|e| format!("sha256sum: {e}"))?;
    let got = String::from_utf8_lossy(&out.stdout);
    if !got.starts_with(sha) {
        let _ = std::fs::remove_file(&tgz);
        return Err(format!("{url} has SHA-256 {got}, not the pinned {sha}"));
    }
    // Unpacked beside, then renamed: a build stopped half way leaves no half library.
    let tmp = dir.join(format!("unpack-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let unpacked = run(Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(&tmp)
        .args(["--strip-components=1", "package/libduckdb.so"]))
    .and_then(|()| std::fs::rename(tmp.join("libduckdb.so"), lib).map_err(|e| e.to_string()));
    let _ = std::fs::remove_file(&tgz);
    let _ = std::fs::remove_dir_all(&tmp);
    unpacked
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let name = format!("{:?}", cmd.get_program());
    let status = cmd.status().map_err(|e| format!("{name}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}
