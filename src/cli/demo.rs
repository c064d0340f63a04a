//! `tdb demo`: the terminal UI on a fresh temporary home holding the bundled sample data as
//! CSV sources, so a newcomer sees tdb work with one command, from any directory. The files
//! are part of the binary; the home (registry, audit log, caches, the CSVs) is removed when
//! the UI closes.

use std::path::Path;

use super::Context;
use crate::connector::csv::{Csv, CsvConnection};
use crate::core::source::NewSource;
use crate::core::{Error, Result};
use crate::home::{Home, create_private_dir};
use crate::registry::Registry;

struct Sample {
    name: &'static str,
    description: &'static str,
    tags: &'static [&'static str],
    bytes: &'static [u8],
}

const SAMPLES: [Sample; 3] = [
    Sample {
        name: "customers",
        description: "Sample customers: names in many scripts, missing phones",
        tags: &["demo", "crm"],
        bytes: include_bytes!("../../assets/demo/customers.csv"),
    },
    Sample {
        name: "orders",
        description: "Sample orders: amounts, currencies, multi-line notes, NULLs",
        tags: &["demo", "finance"],
        bytes: include_bytes!("../../assets/demo/orders.csv"),
    },
    Sample {
        name: "events",
        description: "Sample web events with JSON payloads",
        tags: &["demo", "web"],
        bytes: include_bytes!("../../assets/demo/events.csv"),
    },
];

pub fn run(config: Option<&Path>, ui: super::Ui) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("tdb-demo-")
        .tempdir()
        .map_err(|e| Error::internal("cannot create a temporary folder for the demo", e))?;
    let home = Home::at(dir.path().join("home"));
    populate(&home, &dir.path().join("data"))?;
    let outcome = ui(&home, config);
    // Removing the folder is part of the promise; say so if it failed.
    if let Err(e) = dir.close() {
        eprintln!("tdb: could not remove the demo's temporary folder: {e}");
    }
    outcome
}

/// Writes the sample files into `data` and registers each as a source of `home`.
fn populate(home: &Home, data: &Path) -> Result<()> {
    home.ensure()?;
    create_private_dir(data)?;
    let ctx = Context {
        home: home.clone(),
        json: false,
    };
    let mut registry = Registry::open(home)?;
    for sample in &SAMPLES {
        let path = data.join(format!("{}.csv", sample.name));
        std::fs::write(&path, sample.bytes).map_err(|e| {
            Error::Internal(format!("cannot write the sample {}: {e}", path.display()))
        })?;
        let rec = registry.add(
            NewSource {
                name: sample.name.to_string(),
                connection: Csv::connection(&CsvConnection {
                    path,
                    delimiter: ',',
                    has_header: true,
                })?,
                secret: None,
                description: sample.description.to_string(),
                tags: sample.tags.iter().map(|t| t.to_string()).collect(),
            },
            &crate::identity::actor(),
        )?;
        super::audit::source_registered(&ctx, &rec);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_home_holds_the_samples_as_sources() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("home"));
        populate(&home, &dir.path().join("data")).unwrap();
        let reg = Registry::open(&home).unwrap();
        let names: Vec<String> = reg
            .list(None)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["customers", "orders", "events"]);
        let orders = std::fs::read(dir.path().join("data/orders.csv")).unwrap();
        assert!(orders.starts_with(b"id,customer_id,total"));
    }
}
