//! `tdb key …`: the API keys `tdb serve` accepts (CONTRACT.md "HTTP API").

use clap::{Args, Subcommand};
use secrecy::ExposeSecret;

use super::Context;
use super::output::{for_terminal, print_json, print_table};
use crate::core::{Error, Result};
use crate::registry::Registry;
use crate::registry::keys::NewKey;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a key; it is printed once and only its hash is kept
    #[command(after_help = "\
Examples:
  tdb key create alice --sources orders,products
  tdb key create finance-team --tag finance --rate 120/min
  tdb key create ops --admin --json")]
    Create(CreateArgs),
    /// List keys by name and prefix (never the key itself)
    List,
    /// Revoke a key: the server refuses it from the next request on
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A name for the key (1–100 characters, unique among live keys)
    name: String,
    /// Only these sources (names or ids, comma-separated)
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        conflicts_with = "tag"
    )]
    sources: Option<Vec<String>>,
    /// Only sources with this tag
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// May register, edit and delete sources
    #[arg(long)]
    admin: bool,
    /// At most N requests a minute (e.g. 60/min); unlimited by default
    #[arg(long, value_name = "N/min", value_parser = parse_rate)]
    rate: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The key's name
    name: String,
}

fn parse_rate(text: &str) -> std::result::Result<u32, String> {
    let n = text.strip_suffix("/min").unwrap_or(text);
    match n.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "\"{text}\" is not a rate: give requests a minute, such as 60/min"
        )),
    }
}

pub fn run(ctx: &Context, cmd: KeyCommand) -> Result<()> {
    let mut reg = Registry::open(&ctx.home)?;
    match cmd {
        KeyCommand::Create(args) => create(ctx, &mut reg, args),
        KeyCommand::List => list(ctx, &reg),
        KeyCommand::Revoke(args) => {
            let key = reg.revoke_key(&args.name)?;
            if ctx.json {
                let mut v = key.to_json();
                v["revoked"] = true.into();
                print_json(&v)
            } else {
                println!(
                    "revoked key \"{}\" ({})",
                    for_terminal(&key.name),
                    key.prefix
                );
                Ok(())
            }
        }
    }
}

fn create(ctx: &Context, reg: &mut Registry, args: CreateArgs) -> Result<()> {
    let created = reg.create_key(NewKey {
        name: args.name,
        sources: args.sources,
        tag: args.tag,
        admin: args.admin,
        rate_per_min: args.rate,
    })?;
    let secret = created.secret.expose_secret();
    if ctx.json {
        let mut v = created.key.to_json();
        let Some(m) = v.as_object_mut() else {
            return Err(Error::Internal("a key's JSON is not an object".into()));
        };
        m.insert("key".into(), secret.into());
        // `name`, `key`, `prefix` first, as CONTRACT shows them.
        let mut ordered = serde_json::Map::new();
        for k in ["name", "key", "prefix"] {
            if let Some(x) = m.remove(k) {
                ordered.insert(k.into(), x);
            }
        }
        ordered.append(m);
        return print_json(&ordered);
    }
    println!("{secret}");
    eprintln!(
        "key \"{}\" ({}, {}{}) made; it is shown only this once",
        for_terminal(&created.key.name),
        created.key.prefix,
        created.key.scope.describe(),
        if created.key.admin { ", admin" } else { "" },
    );
    Ok(())
}

fn list(ctx: &Context, reg: &Registry) -> Result<()> {
    let keys = reg.list_keys()?;
    if ctx.json {
        let all: Vec<_> = keys.iter().map(|k| k.to_json()).collect();
        return print_json(&all);
    }
    if keys.is_empty() {
        println!("no keys yet: make one with `tdb key create NAME`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.name.clone(),
                k.prefix.clone(),
                k.scope.describe(),
                if k.admin { "yes" } else { "no" }.into(),
                k.rate_per_min
                    .map_or_else(|| "-".into(), |n| format!("{n}/min")),
                k.created_at.clone(),
                k.last_used_at.clone().unwrap_or_else(|| "never".into()),
            ]
        })
        .collect();
    print_table(
        &[
            "NAME",
            "PREFIX",
            "SCOPE",
            "ADMIN",
            "RATE",
            "CREATED",
            "LAST USED",
        ],
        &rows,
    )
}
