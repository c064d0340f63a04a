//! `tdb source …`: the registry from the command line (seed 000/001 endpoints).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde_json::{Map, Value as Json, json};

use super::flags::ConnectionFlags;
use super::output::{print_fields, print_json, print_table};
use super::{Context, SourceRef};
use crate::core::secret::StoredSecret;
use crate::core::source::{RegisterRequest, SourceRecord};
use crate::core::{Error, Result};
use crate::home::Here;
use crate::registry::{EditRequest, Registry, Removal};

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Register a source, from flags or from a seed request body
    #[command(after_help = "\
Examples:
  tdb source add people --type csv --path ./people.csv --tag demo
  tdb source add orders --type postgres --host db.internal --dbname prod --user reader \\
      --table orders --password-env PGPASSWORD_PROD
  tdb source add orders --type postgres --url 'postgres://reader@db.internal/prod' \\
      --connection '{\"table\":\"orders\",\"password_env\":\"PGPASSWORD_PROD\"}'
  tdb source add --from-json orders.json
  echo '{\"name\":\"t\",\"source_type\":\"csv\",\"connection\":{\"path\":\"t.csv\"}}' | tdb source add --from-json -

A password given in --url or --connection is encrypted at rest and never printed; prefer
`tdb source set-password NAME` or \"password_env\" so it stays out of shell history.")]
    Add(AddArgs),
    /// List sources (no connection details)
    #[command(after_help = "Examples:\n  tdb source list\n  tdb source list --tag finance --json")]
    List(ListArgs),
    /// Show one source, secrets masked
    #[command(after_help = "Example:\n  tdb source show orders --json")]
    Show(SourceRef),
    /// Inspect the live schema of a source
    #[command(after_help = "Example:\n  tdb source schema orders --json")]
    Schema(SourceRef),
    /// Check a source can be reached; records its status
    #[command(after_help = "Example:\n  tdb source test orders")]
    Test(SourceRef),
    /// Change a source's name, description, tags or connection
    #[command(after_help = "\
Examples:
  tdb source edit orders --description 'Order records' --tag finance --tag prod
  tdb source edit orders --connection '{\"port\":6432,\"sslmode\":\"require\"}'
  tdb source edit orders --port 6432 --sslmode require
  tdb source edit orders --name orders_eu

--tag replaces all tags; --connection merges the given keys (null removes one).")]
    Edit(EditArgs),
    /// Store a new password, read from stdin or a prompt that does not echo
    #[command(after_help = "\
Examples:
  tdb source set-password orders            (prompts, nothing echoed)
  pass show db/orders | tdb source set-password orders")]
    SetPassword(SourceRef),
    /// Delete a source (its secret and caches at once; the underlying data is never touched)
    #[command(after_help = "\
Examples:
  tdb source rm orders            keep the record for the audit trail
  tdb source rm orders --purge    remove every trace from the registry")]
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Name of the new source (1–100 characters, unique)
    name: Option<String>,
    /// Read the seed's request body {name, source_type, connection, description, tags} ("-" = stdin)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "source_type", "connection", "description", "tags"])]
    from_json: Option<PathBuf>,
    #[arg(long = "type", value_name = "T", help = super::flags::type_help())]
    source_type: Option<String>,
    /// Connection fields as a JSON object, e.g. '{"table":"orders"}' (flags below win)
    #[arg(long, value_name = "JSON")]
    connection: Option<String>,
    #[command(flatten)]
    fields: ConnectionFlags,
    /// Human-readable description (at most 500 characters)
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// A label; repeat for several
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only sources with this tag
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    #[command(flatten)]
    source: SourceRef,
    /// New name
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// New description
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// New tags (replace the old ones); repeat for several
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Remove every tag
    #[arg(long, conflicts_with = "tags")]
    clear_tags: bool,
    /// Connection keys to change, as a JSON object (null removes one)
    #[arg(long, value_name = "JSON")]
    connection: Option<String>,
    #[command(flatten)]
    fields: ConnectionFlags,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    #[command(flatten)]
    source: SourceRef,
    /// Also remove the record itself (by default it stays for the audit trail)
    #[arg(long)]
    purge: bool,
}

pub fn run(ctx: &Context, cmd: SourceCommand) -> Result<()> {
    let open = || Registry::open(&ctx.home);
    match cmd {
        SourceCommand::Add(args) => add(ctx, &mut open()?, args),
        SourceCommand::List(args) => list(ctx, &open()?, args),
        SourceCommand::Show(r) => {
            let reg = open()?;
            let rec = reg.get(&r.reference)?;
            warn_if_undecryptable(&reg, &rec)?;
            print_record(ctx, &rec)
        }
        SourceCommand::Schema(r) => super::connect::schema(ctx, &r.reference),
        SourceCommand::Test(r) => super::connect::test(ctx, &r.reference),
        SourceCommand::Edit(args) => edit(ctx, &mut open()?, args),
        SourceCommand::SetPassword(r) => set_password(ctx, &mut open()?, &r.reference),
        SourceCommand::Rm(args) => rm(ctx, &mut open()?, args),
    }
}

fn add(ctx: &Context, reg: &mut Registry, args: AddArgs) -> Result<()> {
    let request = match &args.from_json {
        Some(_) if !args.fields.0.is_empty() => {
            return Err(Error::Invalid(
                "connection: --from-json holds the whole request; give no connection flags beside it"
                    .into(),
            ));
        }
        Some(file) => RegisterRequest::from_json_text(&read_input(file)?)?,
        None => request_from_flags(args)?,
    };
    let new = request.validate(crate::connector::find_kind, &Here::now().context())?;
    let rec = reg.add(new, &crate::identity::actor())?;
    super::audit::source_registered(ctx, &rec);
    if ctx.json {
        print_json(&rec.to_json())
    } else {
        println!(
            "registered {} source \"{}\" ({})",
            rec.source_type(),
            super::output::for_terminal(&rec.name),
            super::output::for_terminal(&rec.connection.display_target())
        );
        println!("id {}", rec.id);
        Ok(())
    }
}

fn request_from_flags(args: AddArgs) -> Result<RegisterRequest> {
    let name = args.name.ok_or_else(|| {
        Error::Invalid("name: give the new source's name, or --from-json FILE".into())
    })?;
    let source_type = args.source_type.ok_or_else(|| {
        Error::Invalid(format!(
            "source_type: give --type ({})",
            crate::connector::kind_names().join(", ")
        ))
    })?;
    let mut connection = match &args.connection {
        Some(text) => parse_object("--connection", text)?,
        None => Map::new(),
    };
    connection.extend(args.fields.0);
    Ok(RegisterRequest {
        name: Json::String(name),
        source_type: Json::String(source_type),
        connection: Json::Object(connection),
        description: args.description.map(Json::String),
        tags: Some(json!(args.tags)),
    })
}

fn parse_object(flag: &str, text: &str) -> Result<Map<String, Json>> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(Error::Invalid(format!(
            "connection: {flag} must be a JSON object"
        ))),
        Err(e) => Err(Error::Invalid(format!(
            "connection: {flag} is not valid JSON: {e}"
        ))),
    }
}

fn read_input(file: &PathBuf) -> Result<String> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::Invalid(format!("cannot read the request from stdin: {e}")))?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| {
            Error::Invalid(format!("cannot read the request {}: {e}", file.display()))
        })?;
    }
    Ok(text)
}

fn list(ctx: &Context, reg: &Registry, args: ListArgs) -> Result<()> {
    let sources = reg.list(args.tag.as_deref())?;
    if ctx.json {
        return print_json(&Json::Array(
            sources.iter().map(SourceRecord::to_summary_json).collect(),
        ));
    }
    if sources.is_empty() {
        match args.tag {
            Some(t) => println!("no sources tagged \"{}\"", super::output::for_terminal(&t)),
            None => println!(
                "no sources yet: add one with `tdb source add NAME --type csv --path FILE`, or try `tdb demo`"
            ),
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = sources
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.source_type().to_string(),
                s.status.as_str().to_string(),
                s.tags.join(","),
                s.registered_at.clone(),
                s.id.chars().take(8).collect(),
                s.description.lines().next().unwrap_or("").to_string(),
            ]
        })
        .collect();
    print_table(
        &[
            "NAME",
            "TYPE",
            "STATUS",
            "TAGS",
            "REGISTERED",
            "ID",
            "DESCRIPTION",
        ],
        &rows,
    )
}

fn print_record(ctx: &Context, rec: &SourceRecord) -> Result<()> {
    if ctx.json {
        return print_json(&rec.to_json());
    }
    let mut fields: Vec<(&str, String)> = vec![
        ("name", rec.name.clone()),
        ("id", rec.id.clone()),
        ("type", rec.source_type().to_string()),
        ("status", rec.status.as_str().to_string()),
        ("description", rec.description.clone()),
        ("tags", rec.tags.join(", ")),
        ("registered_by", rec.registered_by.clone()),
        ("registered_at", rec.registered_at.clone()),
    ];
    let conn = rec.connection.to_public_json(rec.has_password);
    let mut conn_fields = Vec::new();
    if let Json::Object(m) = &conn {
        for (k, v) in m {
            let text = match v {
                Json::String(s) => s.clone(),
                Json::Null => "-".into(),
                other => other.to_string(),
            };
            conn_fields.push((format!("connection.{k}"), text));
        }
    }
    for (k, v) in &conn_fields {
        fields.push((k.as_str(), v.clone()));
    }
    print_fields(&fields)
}

/// A registry copied to another machine lists fine, but its passwords need entering again.
fn warn_if_undecryptable(reg: &Registry, rec: &SourceRecord) -> Result<()> {
    if let StoredSecret::Undecryptable = reg.secret(rec)? {
        eprintln!(
            "warning: the stored password of \"{}\" cannot be decrypted with this machine's key ({} or $TDB_MASTER_KEY); enter it again with `tdb source set-password {}`",
            super::output::for_terminal(&rec.name),
            reg.key_path().display(),
            super::output::for_terminal(&rec.name),
        );
    }
    Ok(())
}

fn edit(ctx: &Context, reg: &mut Registry, args: EditArgs) -> Result<()> {
    let tags = if args.clear_tags {
        Some(Vec::new())
    } else if args.tags.is_empty() {
        None
    } else {
        Some(args.tags)
    };
    let connection = match (&args.connection, args.fields.0.is_empty()) {
        (Some(text), _) => {
            let mut patch = parse_object("--connection", text)?;
            patch.extend(args.fields.0);
            Some(patch)
        }
        (None, false) => Some(args.fields.0),
        (None, true) => None,
    };
    if args.name.is_none() && args.description.is_none() && tags.is_none() && connection.is_none() {
        return Err(Error::Invalid(
            "nothing to change: give --name, --description, --tag, --clear-tags, --connection or a connection field flag"
                .into(),
        ));
    }
    let old = reg.get(&args.source.reference)?;
    let old_secret = secret_or_unknown(reg, &old);
    let rec = reg.edit(
        &old.id,
        EditRequest {
            name: args.name,
            description: args.description,
            tags,
            connection,
        },
    )?;
    let password_changed =
        crate::backend::engine::password_changed(&old_secret, &secret_or_unknown(reg, &rec));
    super::audit::source_updated(ctx, &old, &rec, password_changed);
    print_record(ctx, &rec)
}

/// The stored password as far as it can be read; an error reading it is as good as an
/// undecryptable one for telling whether an edit changed it.
fn secret_or_unknown(reg: &Registry, rec: &SourceRecord) -> StoredSecret {
    reg.secret(rec).unwrap_or(StoredSecret::Undecryptable)
}

fn set_password(ctx: &Context, reg: &mut Registry, reference: &str) -> Result<()> {
    // Fail before asking for a secret that could not be used.
    let rec = reg.get(reference)?;
    let secret = read_secret(&rec.name)?;
    let old = rec;
    let rec = reg.set_password(&old.id, &secret)?;
    // A new password is a change even when it is the same text: the line says one was set.
    super::audit::source_updated(ctx, &old, &rec, true);
    if ctx.json {
        print_json(&rec.to_json())
    } else {
        println!(
            "password stored for \"{}\" (encrypted)",
            super::output::for_terminal(&rec.name)
        );
        Ok(())
    }
}

/// The secret from a prompt without echo when stdin is a terminal, else stdin's first line.
fn read_secret(name: &str) -> Result<SecretString> {
    let text = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!(
            "new password for \"{}\": ",
            super::output::for_terminal(name)
        ))
        .map_err(|e| Error::Invalid(format!("cannot read the password: {e}")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::Invalid(format!("cannot read the password from stdin: {e}")))?;
        let trimmed = line.trim_end_matches(['\n', '\r']).to_string();
        zeroize::Zeroize::zeroize(&mut line);
        trimmed
    };
    if text.is_empty() {
        return Err(Error::Invalid("password: must not be empty".into()));
    }
    Ok(SecretString::from(text))
}

fn rm(ctx: &Context, reg: &mut Registry, args: RmArgs) -> Result<()> {
    let how = if args.purge {
        Removal::Purge
    } else {
        Removal::Soft
    };
    let rec = reg.remove(&args.source.reference, how)?;
    super::audit::source_deleted(ctx, &rec, args.purge);
    if ctx.json {
        print_json(&json!({"id": rec.id, "name": rec.name, "deleted": true, "purged": args.purge}))
    } else {
        println!(
            "removed source \"{}\"{}",
            super::output::for_terminal(&rec.name),
            if args.purge { " (purged)" } else { "" }
        );
        Ok(())
    }
}
