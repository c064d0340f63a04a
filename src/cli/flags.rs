//! Connection fields as command-line flags, made from every kind's field list: a kind's
//! new field is a new flag (`--host`, `--path`, `--connect-timeout-s`) with no CLI code.
//! Secret fields are not offered: a password on the command line ends up in the shell's
//! history and in `ps` (`tdb source set-password` and `password_env` are for that).

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use serde_json::{Map, Value as Json};

use crate::connector::KINDS;
use crate::core::kind::{FieldSpec, Input};

/// The connection fields given as flags, as the connection JSON would hold them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionFlags(pub Map<String, Json>);

/// The kinds that share one field's wording (help and default).
type Wording = (&'static FieldSpec, Vec<&'static str>);

/// Each field key once (the first kind's spec of it), with its wordings: the kinds that
/// describe it alike (`port`: 5432 for postgres, 3306 for mysql and mariadb).
fn flag_fields() -> Vec<(&'static FieldSpec, Vec<Wording>)> {
    let mut out: Vec<(&'static FieldSpec, Vec<Wording>)> = Vec::new();
    for kind in KINDS {
        for spec in kind.fields().iter().filter(|s| !s.is_secret()) {
            let Some((_, wordings)) = out.iter_mut().find(|(s, _)| s.key == spec.key) else {
                out.push((spec, vec![(spec, vec![kind.name()])]));
                continue;
            };
            match wordings
                .iter_mut()
                .find(|(w, _)| w.help == spec.help && w.default == spec.default)
            {
                Some((_, kinds)) => kinds.push(kind.name()),
                None => wordings.push((spec, vec![kind.name()])),
            }
        }
    }
    out
}

/// `connect_timeout_s` as `--connect-timeout-s`.
fn long(key: &str) -> String {
    key.replace('_', "-")
}

fn value_name(spec: &FieldSpec) -> &'static str {
    match spec.input {
        Input::Number { .. } => "N",
        Input::Bool => "BOOL",
        Input::Choice(_) => "MODE",
        Input::List => "NAME",
        Input::Text | Input::Secret => match spec.key {
            "url" => "URL",
            "path" => "PATH",
            _ => "TEXT",
        },
    }
}

fn help(wordings: &[Wording]) -> String {
    let mut helps: Vec<String> = Vec::new();
    let same_help = wordings.iter().all(|(w, _)| w.help == wordings[0].0.help);
    for (spec, kinds) in wordings {
        let default = spec
            .default
            .map(|d| format!(" [default: {d}]"))
            .unwrap_or_default();
        if same_help && !helps.is_empty() {
            helps.push(
                format!("{default} ({})", kinds.join(", "))
                    .trim()
                    .to_string(),
            );
        } else {
            helps.push(format!("{}{default} ({})", spec.help, kinds.join(", ")));
        }
    }
    helps.join("; ")
}

impl Args for ConnectionFlags {
    fn augment_args(cmd: Command) -> Command {
        flag_fields()
            .into_iter()
            .fold(cmd, |cmd, (spec, wordings)| {
                let mut arg = Arg::new(spec.key)
                    .long(long(spec.key))
                    .value_name(value_name(spec))
                    .help(help(&wordings))
                    .help_heading("Connection fields")
                    .allow_hyphen_values(false);
                // Values are checked by the kind's rules, like --connection's, so a wrong one
                // exits 10 naming the field rather than as a usage error.
                arg = match spec.input {
                    Input::List => arg.action(ArgAction::Append),
                    _ => arg.action(ArgAction::Set),
                };
                cmd.arg(arg)
            })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for ConnectionFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut map = Map::new();
        for (spec, _) in flag_fields() {
            let key = spec.key.to_string();
            match spec.input {
                Input::List => {
                    if let Some(values) = m.get_many::<String>(spec.key) {
                        map.insert(key, values.cloned().map(Json::String).collect());
                    }
                }
                Input::Bool => {
                    if let Some(v) = m.get_one::<String>(spec.key) {
                        let value = match v.as_str() {
                            "true" => Json::Bool(true),
                            "false" => Json::Bool(false),
                            other => Json::String(other.into()),
                        };
                        map.insert(key, value);
                    }
                }
                _ => {
                    if let Some(v) = m.get_one::<String>(spec.key) {
                        map.insert(key, Json::String(v.clone()));
                    }
                }
            }
        }
        Ok(ConnectionFlags(map))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// `--type`'s help: every kind of this build, a line each.
pub fn type_help() -> String {
    let kinds: Vec<String> = KINDS
        .iter()
        .map(|k| format!("{} ({})", k.name(), k.about()))
        .collect();
    format!("Source kind: {}", kinds.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        conn: ConnectionFlags,
    }

    #[test]
    fn every_kinds_fields_are_flags_and_secrets_are_not() {
        let cmd = Cli::command_for_test();
        for kind in KINDS {
            for spec in kind.fields() {
                let found = cmd.get_arguments().any(|a| a.get_id() == spec.key);
                assert_eq!(found, !spec.is_secret(), "{}: {}", kind.name(), spec.key);
            }
        }
    }

    #[test]
    fn flags_become_the_connection_json() {
        let cli = Cli::try_parse_from([
            "t",
            "--host",
            "db",
            "--connect-timeout-s",
            "5",
            "--has-header",
            "false",
            "--allow-functions",
            "postgis",
            "--allow-functions",
            "public.f",
        ])
        .unwrap();
        assert_eq!(
            Json::Object(cli.conn.0),
            serde_json::json!({"host": "db", "has_header": false, "connect_timeout_s": "5",
                               "allow_functions": ["postgis", "public.f"]})
        );
        assert!(Cli::try_parse_from(["t", "--password", "x"]).is_err());
        let cli = Cli::try_parse_from(["t", "--has-header", "maybe"]).unwrap();
        assert_eq!(
            cli.conn.0["has_header"], "maybe",
            "left for the kind to refuse"
        );
    }

    impl Cli {
        fn command_for_test() -> Command {
            <Cli as clap::CommandFactory>::command()
        }
    }
}
