//! `tdb key create/list/revoke` through the real binary: the key is printed once, only its
//! hash is stored, and the exit codes of CONTRACT.md.

mod common;

use common::process::{add_csv_source, tdb, text};
use serde_json::Value;
use sha2::Digest;

fn home_with_source() -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let csv = home.path().join("people.csv");
    std::fs::write(&csv, "id,name\n1,ann\n").unwrap();
    add_csv_source(home.path(), "people", &csv);
    let root = home.path().to_path_buf();
    (home, root)
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every byte of the registry files, for looking for a key in them.
fn registry_bytes(home: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(home).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("registry.db") {
            all.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    all
}

#[test]
fn a_key_is_printed_once_and_only_its_hash_is_stored() {
    let (_dir, home) = home_with_source();
    let v = json_of(
        &tdb(&home)
            .args([
                "key",
                "create",
                "alice",
                "--sources",
                "people",
                "--rate",
                "60/min",
                "--json",
            ])
            .output()
            .unwrap(),
    );
    let key = v["key"].as_str().unwrap().to_string();
    let prefix = v["prefix"].as_str().unwrap();
    assert!(key.starts_with("tdbk_") && key.len() == 48, "{key}");
    assert!(key.starts_with(prefix) && prefix.len() == 13, "{prefix}");
    assert_eq!(v["name"], "alice");
    assert_eq!(v["rate_per_min"], 60);
    assert_eq!(v["admin"], false);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(&keys[..3], ["name", "key", "prefix"]);

    let stored = registry_bytes(&home);
    let has = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
    assert!(!has(key.as_bytes()), "the key itself is in the registry");
    let digest: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    assert!(has(&digest), "the key's SHA-256 is not in the registry");

    let listed = tdb(&home).args(["key", "list"]).output().unwrap();
    let listed_text = text(&listed.stdout);
    assert!(listed.status.success());
    assert!(
        listed_text.contains("alice") && listed_text.contains(prefix),
        "{listed_text}"
    );
    assert!(listed_text.contains("never"), "{listed_text}");
    assert!(!listed_text.contains(&key), "key list printed the key");
    let listed = json_of(&tdb(&home).args(["key", "list", "--json"]).output().unwrap());
    assert!(!listed.to_string().contains(&key));
    assert_eq!(listed[0]["prefix"], prefix);
    assert!(listed[0]["scope"]["sources"][0].as_str().unwrap().len() == 36);
}

#[test]
fn key_commands_exit_with_the_contract_codes() {
    let (_dir, home) = home_with_source();
    let plain = tdb(&home)
        .args(["key", "create", "ops", "--admin"])
        .output()
        .unwrap();
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    // Without --json only the key is on stdout, so `KEY=$(tdb key create …)` works.
    let key = text(&plain.stdout);
    assert!(
        key.trim().starts_with("tdbk_") && key.lines().count() == 1,
        "{key}"
    );
    assert!(text(&plain.stderr).contains("shown only this once"));

    let again = tdb(&home).args(["key", "create", "ops"]).output().unwrap();
    assert_eq!(again.status.code(), Some(12), "{}", text(&again.stderr));
    let missing = tdb(&home)
        .args(["key", "create", "x", "--sources", "people,nope"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(11), "{}", text(&missing.stderr));
    let both = tdb(&home)
        .args(["key", "create", "x", "--sources", "people", "--tag", "t"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
    let zero = tdb(&home)
        .args(["key", "create", "x", "--rate", "0/min"])
        .output()
        .unwrap();
    assert_eq!(zero.status.code(), Some(2));

    let revoked = tdb(&home)
        .args(["key", "revoke", "ops", "--json"])
        .output()
        .unwrap();
    assert_eq!(json_of(&revoked)["revoked"], true);
    let twice = tdb(&home).args(["key", "revoke", "ops"]).output().unwrap();
    assert_eq!(twice.status.code(), Some(11));
    let listed = json_of(&tdb(&home).args(["key", "list", "--json"]).output().unwrap());
    assert_eq!(listed, Value::Array(vec![]));
    // The name is free again once revoked.
    let remade = tdb(&home).args(["key", "create", "ops"]).output().unwrap();
    assert!(remade.status.success(), "{}", text(&remade.stderr));
}
