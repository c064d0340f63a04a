//! The user's settings: keys and colours from `config.toml` (`--config FILE`, else
//! `$XDG_CONFIG_HOME/tdb/config.toml`, else `~/.config/tdb/config.toml`), layered over the
//! defaults embedded in the binary (`assets/keys.toml`, `assets/config.toml`), so a file
//! names only what it changes.
//!
//! A file that cannot be used never stops tdb: the whole file is set aside (half a config
//! is harder to reason about than none), the defaults apply, and [`Config::problem`] says
//! which line is wrong and why, for the status bar and for stderr after the UI closes.
//!
//! `NO_COLOR` (any non-empty value, <https://no-color.org>) starts from a theme without
//! colours, emphasis by bold, reverse and dim only; a `[theme]` in the user's file still
//! applies, as that convention allows for explicit configuration.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::app::{AppState, Message, MessageKind, RowLimits};
use super::keymap::Keymap;
use super::theme::Theme;

/// The embedded defaults of the theme, which double as the documentation of every option.
const DEFAULTS: &str = include_str!("../../assets/config.toml");

/// What the UI starts with.
#[derive(Debug, Clone)]
pub struct Config {
    pub keymap: Keymap,
    pub theme: Theme,
    /// `[results]`: how far results grow past their first page.
    pub rows: RowLimits,
    /// Why the user's file was not used, naming the file and the line.
    pub problem: Option<String>,
}

/// What decides where the file is and how colours start; read from the process by
/// [`ConfigEnv::from_process`], made up by tests.
#[derive(Debug, Clone, Default)]
pub struct ConfigEnv {
    pub xdg_config_home: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub no_color: bool,
}

impl ConfigEnv {
    pub fn from_process() -> ConfigEnv {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        ConfigEnv {
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
            home: dirs::home_dir(),
            no_color: var("NO_COLOR").is_some(),
        }
    }

    /// `$XDG_CONFIG_HOME/tdb/config.toml` (an absolute one only, as the XDG spec says),
    /// else `~/.config/tdb/config.toml`.
    pub fn default_path(&self) -> Option<PathBuf> {
        let base = match &self.xdg_config_home {
            Some(x) if x.is_absolute() => x.clone(),
            _ => self.home.as_ref()?.join(".config"),
        };
        Some(base.join("tdb").join("config.toml"))
    }
}

impl Config {
    /// The built-in keys and theme (no colours with `NO_COLOR`).
    pub fn defaults(env: &ConfigEnv) -> Result<Config, String> {
        let keymap = Keymap::defaults().map_err(|e| format!("the built-in keys: {e}"))?;
        let mut rows = RowLimits::default();
        let mut theme = Theme::default();
        apply(DEFAULTS, &mut Keymap::default(), &mut theme, &mut rows)
            .map_err(|e| format!("the built-in config, {e}"))?;
        if env.no_color {
            theme = Theme::monochrome();
        }
        Ok(Config {
            keymap,
            theme,
            rows,
            problem: None,
        })
    }

    /// The defaults with the user's file on top: `explicit` (`--config`), which must
    /// exist, or the default path, which may not.
    pub fn load(explicit: Option<&Path>, env: &ConfigEnv) -> Result<Config, String> {
        let mut config = Config::defaults(env)?;
        let Some(path) = explicit
            .map(Path::to_path_buf)
            .or_else(|| env.default_path())
        else {
            return Ok(config);
        };
        let shown = crate::clipboard::tildify(&path);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                return Ok(config);
            }
            Err(e) => {
                config.problem = Some(format!(
                    "cannot read {shown}: {e}; using the default keys and colours"
                ));
                return Ok(config);
            }
        };
        let mut keymap = config.keymap.clone();
        let mut theme = config.theme.clone();
        let mut rows = config.rows;
        match apply(&text, &mut keymap, &mut theme, &mut rows) {
            Ok(()) => {
                config.keymap = keymap;
                config.theme = theme;
                config.rows = rows;
            }
            Err(e) => {
                config.problem = Some(format!("{shown} {e}; using the default keys and colours"))
            }
        }
        Ok(config)
    }
}

impl Config {
    /// Gives a new app the theme, and the problem with the file (if any) as its first
    /// status message. The keymap goes to [`AppState::new`] itself.
    pub fn install(&self, app: &mut AppState) {
        app.theme = self.theme.clone();
        app.tabs.limits = self.rows;
        if let Some(problem) = &self.problem {
            app.message = Some(Message {
                text: crate::core::sanitize::for_terminal(problem).into_owned(),
                kind: MessageKind::Error,
            });
        }
    }
}

/// `line 3, column 7` of a byte offset in `text`.
fn place(text: &str, at: usize) -> String {
    let before = &text[..text.floor_char_boundary(at.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

/// An error at `span` of `text`: `line 3, column 7: …`.
fn at<T>(text: &str, span: &Spanned<T>, msg: impl std::fmt::Display) -> String {
    format!("{}: {msg}", place(text, span.span().start))
}

/// Layers a config file's `[keys.*]`, `[theme]` and `[results]` over `keymap`, `theme` and
/// `rows`. Errors name the line and column.
fn apply(
    text: &str,
    keymap: &mut Keymap,
    theme: &mut Theme,
    rows: &mut RowLimits,
) -> Result<(), String> {
    let doc = DeTable::parse(text).map_err(|e| {
        let line = e
            .span()
            .map_or_else(|| "".to_string(), |s| format!("{}: ", place(text, s.start)));
        format!("{line}{}", e.message().trim_end())
    })?;
    for (section, value) in doc.get_ref() {
        let name: &str = section.get_ref();
        match (name, value.get_ref()) {
            ("keys", DeValue::Table(scopes)) => {
                for (scope, bindings) in scopes {
                    let DeValue::Table(bindings) = bindings.get_ref() else {
                        return Err(at(
                            text,
                            scope,
                            format!(
                                "[keys.{}] must be a table of key = \"action\"",
                                scope.get_ref()
                            ),
                        ));
                    };
                    for (key, action) in bindings {
                        let Some(action_name) = action.get_ref().as_str() else {
                            return Err(at(text, action, "the action must be a string"));
                        };
                        keymap
                            .bind(scope.get_ref(), key.get_ref(), action_name)
                            .map_err(|e| {
                                at(text, key, format!("[keys.{}] {e}", scope.get_ref()))
                            })?;
                    }
                }
            }
            ("theme", DeValue::Table(entries)) => {
                for (key, value) in entries {
                    let Some(slot) = theme.slot(key.get_ref()) else {
                        return Err(at(
                            text,
                            key,
                            format!(
                                "[theme] has no \"{}\"; it has {}",
                                key.get_ref(),
                                Theme::SLOTS.join(", ")
                            ),
                        ));
                    };
                    let Some(spec) = value.get_ref().as_str() else {
                        return Err(at(text, value, "a style is a string such as \"cyan bold\""));
                    };
                    *slot = parse_style(spec).map_err(|e| at(text, value, e))?;
                }
            }
            ("results", DeValue::Table(entries)) => {
                for (key, value) in entries {
                    let range = match key.get_ref().as_ref() {
                        "page_rows" => 1..=100_000,
                        "row_cap" => 1..=10_000_000,
                        "idle_close_s" => 1..=86_400,
                        other => {
                            return Err(at(
                                text,
                                key,
                                format!(
                                    "[results] has no \"{other}\"; it has page_rows, row_cap, \
                                     idle_close_s"
                                ),
                            ));
                        }
                    };
                    let n = match value.get_ref() {
                        DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).ok(),
                        _ => None,
                    };
                    let Some(n) = n.filter(|n| range.contains(n)) else {
                        return Err(at(
                            text,
                            value,
                            format!(
                                "[results] {} must be a whole number from {} to {}",
                                key.get_ref(),
                                range.start(),
                                range.end()
                            ),
                        ));
                    };
                    match key.get_ref().as_ref() {
                        "page_rows" => rows.page_rows = n as usize,
                        "row_cap" => rows.row_cap = n as usize,
                        _ => rows.idle = std::time::Duration::from_secs(n),
                    }
                }
            }
            ("keys" | "theme" | "results", _) => {
                return Err(at(text, section, format!("[{name}] must be a table")));
            }
            _ => {
                return Err(at(
                    text,
                    section,
                    format!(
                        "unknown section [{name}]; there are [theme], [results] and \
                         [keys.<scope>]"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A style from words: colour names (`red`, `darkgray`, `lightcyan`, …), 256-colour
/// indexes (`236`) or `#rrggbb` for the text, `on <colour>` for the background, and `bold`,
/// `dim`, `italic`, `underlined`, `reversed`; `none` is the terminal's own style.
pub fn parse_style(spec: &str) -> Result<Style, String> {
    let mut style = Style::new();
    let mut words = spec.split_whitespace();
    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        let modifier = match lower.as_str() {
            "none" | "default" => continue,
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" | "underline" => Modifier::UNDERLINED,
            "reversed" | "reverse" => Modifier::REVERSED,
            "on" => {
                let bg = words
                    .next()
                    .ok_or_else(|| format!("\"{spec}\": a colour must follow \"on\""))?;
                style = style.bg(colour(bg)?);
                continue;
            }
            _ => {
                style = style.fg(colour(word)?);
                continue;
            }
        };
        style = style.add_modifier(modifier);
    }
    Ok(style)
}

fn colour(word: &str) -> Result<Color, String> {
    word.parse::<Color>().map_err(|_| {
        format!(
            "unknown colour or style \"{word}\" (colours: red, darkgray, lightcyan, 208, \
             #ff8800; styles: bold, dim, italic, underlined, reversed; `on COLOUR` for the \
             background)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::action::{Action, CopyTarget};
    use crate::tui::keymap::{Context, Key};
    use crate::tui::panes::Focus;

    fn env(dir: &Path) -> ConfigEnv {
        ConfigEnv {
            xdg_config_home: Some(dir.to_path_buf()),
            home: None,
            no_color: false,
        }
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("tdb/config.toml");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn results_key(c: &Config, key: &str) -> Option<Action> {
        let ctx = Context {
            focus: Focus::Results,
            overlay: None,
            running: false,
        };
        c.keymap.lookup(ctx, Key::parse(key).unwrap())
    }

    #[test]
    fn results_limits_come_from_the_file_and_bad_ones_are_named() {
        let defaults = Config::defaults(&ConfigEnv::default()).unwrap();
        assert_eq!(
            defaults.rows,
            RowLimits::default(),
            "the embedded file says the same"
        );
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "[results]\nrow_cap = 5000\nidle_close_s = 30\n");
        let c = Config::load(None, &env(dir.path())).unwrap();
        assert_eq!(c.problem, None);
        assert_eq!(c.rows.row_cap, 5000);
        assert_eq!(c.rows.idle, std::time::Duration::from_secs(30));
        assert_eq!(c.rows.page_rows, 1000);
        write(dir.path(), "[results]\npage_rows = 0\n");
        let c = Config::load(None, &env(dir.path())).unwrap();
        let problem = c.problem.unwrap();
        assert!(
            problem.contains("line 2") && problem.contains("page_rows"),
            "{problem}"
        );
        assert_eq!(c.rows, RowLimits::default());
        write(dir.path(), "[results]\nrows = 5\n");
        let problem = Config::load(None, &env(dir.path()))
            .unwrap()
            .problem
            .unwrap();
        assert!(problem.contains("has no \"rows\""), "{problem}");
    }

    #[test]
    fn the_embedded_file_is_the_default_theme() {
        let c = Config::defaults(&ConfigEnv::default()).unwrap();
        assert_eq!(c.theme, Theme::default());
        let plain = Config::defaults(&ConfigEnv {
            no_color: true,
            ..ConfigEnv::default()
        })
        .unwrap();
        assert_eq!(plain.theme, Theme::monochrome());
    }

    #[test]
    fn every_option_and_action_is_documented() {
        for slot in Theme::SLOTS {
            assert!(DEFAULTS.contains(&format!("\n{slot} = ")), "{slot}");
        }
        for (name, _) in Action::BINDABLE {
            assert!(DEFAULTS.contains(&format!(" {name}")), "{name}");
        }
    }

    #[test]
    fn a_user_file_changes_only_what_it_names() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "[keys.results]\nx = \"copy-cell\"\ny = \"none\"\n\n[theme]\nerror = \"black on #ff8800 bold\"\n",
        );
        let c = Config::load(None, &env(dir.path())).unwrap();
        assert_eq!(c.problem, None);
        let cell = Action::Copy {
            target: CopyTarget::Cell,
        };
        assert_eq!(results_key(&c, "x"), Some(cell));
        assert_eq!(results_key(&c, "y"), None, "\"none\" unbinds");
        assert_eq!(
            results_key(&c, "Y"),
            Some(Action::Copy {
                target: CopyTarget::Row
            })
        );
        assert_eq!(
            c.theme.error,
            Style::new()
                .fg(Color::Black)
                .bg(Color::Rgb(0xff, 0x88, 0))
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(c.theme.border, Theme::default().border);
    }

    #[test]
    fn a_bad_file_is_named_by_line_and_the_defaults_apply() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "[theme]\nerror = \"red\"\n[keys.results]\nx = \"fly\"\n",
                "line 4, column 1: [keys.results] x: unknown action \"fly\"",
            ),
            (
                "[theme]\n\nborder = \"blurple\"\n",
                "line 3, column 10: unknown colour or style \"blurple\"",
            ),
            ("[theme\nx = 1\n", "line 1, column 7: "),
            ("[colours]\n", "line 1, column 2: unknown section [colours]"),
            (
                "[keys.nowhere]\nx = \"quit\"\n",
                "line 2, column 1: [keys.nowhere] unknown section [nowhere]",
            ),
            (
                "[theme]\nborders = \"red\"\n",
                "line 2, column 1: [theme] has no \"borders\"",
            ),
        ];
        for (text, want) in cases {
            let path = write(dir.path(), text);
            let c = Config::load(None, &env(dir.path())).unwrap();
            let problem = c.problem.clone().expect("a problem");
            assert!(
                problem.starts_with(&format!("{} {want}", path.display())),
                "{problem:?} for {text:?}"
            );
            assert!(problem.ends_with("; using the default keys and colours"));
            assert_eq!(c.theme, Theme::default(), "none of the file applies");
            assert_eq!(
                results_key(&c, "x"),
                None,
                "none of the file applies: {text:?}"
            );
        }
    }

    #[test]
    fn where_the_file_is() {
        let e = ConfigEnv {
            xdg_config_home: Some("/x".into()),
            home: Some("/h".into()),
            no_color: false,
        };
        assert_eq!(e.default_path(), Some("/x/tdb/config.toml".into()));
        let relative = ConfigEnv {
            xdg_config_home: Some("rel".into()),
            ..e.clone()
        };
        assert_eq!(
            relative.default_path(),
            Some("/h/.config/tdb/config.toml".into())
        );
        // No file at the default path is fine; a missing --config file is a problem.
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(None, &env(dir.path())).unwrap().problem, None);
        let missing = dir.path().join("nope.toml");
        let c = Config::load(Some(&missing), &env(dir.path())).unwrap();
        assert!(c.problem.unwrap().starts_with("cannot read "));
    }

    #[test]
    fn styles_read_as_words() {
        assert_eq!(parse_style("none").unwrap(), Style::new());
        assert_eq!(
            parse_style("cyan bold").unwrap(),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        );
        assert_eq!(
            parse_style("on 236").unwrap(),
            Style::new().bg(Color::Indexed(236))
        );
        assert!(parse_style("bold on").unwrap_err().contains("must follow"));
    }
}
