//! Keys to actions, per scope, from the defaults embedded in the binary (`assets/keys.toml`).
//! The user's `config.toml` is layered on top binding by binding ([`Keymap::bind`], from
//! `super::config`): its `[keys.<scope>]` tables use the same format, so the defaults
//! double as its documentation.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::panes::Focus;

const DEFAULTS: &str = include_str!("../../assets/keys.toml");

/// Where a binding applies. Lookup goes `Running`, the overlay, the pane, then `Global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Running,
    Global,
    Pane(Focus),
    Help,
    Detail,
    CopyMenu,
    Export,
    Form,
    Confirm,
    Filter,
    Completion,
    History,
    Prompt,
    Plan,
}

impl Scope {
    /// Scopes in the order the help overlay lists them.
    pub const ALL: [Scope; 17] = [
        Scope::Global,
        Scope::Running,
        Scope::Pane(Focus::Sources),
        Scope::Pane(Focus::Schema),
        Scope::Pane(Focus::Editor),
        Scope::Pane(Focus::Results),
        Scope::Help,
        Scope::Detail,
        Scope::Plan,
        Scope::CopyMenu,
        Scope::Export,
        Scope::Filter,
        Scope::Form,
        Scope::Confirm,
        Scope::Completion,
        Scope::History,
        Scope::Prompt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Running => "running",
            Scope::Global => "global",
            Scope::Pane(Focus::Sources) => "sources",
            Scope::Pane(Focus::Schema) => "schema",
            Scope::Pane(Focus::Editor) => "editor",
            Scope::Pane(Focus::Results) => "results",
            Scope::Help => "help",
            Scope::Detail => "detail",
            Scope::CopyMenu => "copy-menu",
            Scope::Export => "export",
            Scope::Form => "form",
            Scope::Confirm => "confirm",
            Scope::Filter => "filter",
            Scope::Completion => "completion",
            Scope::History => "history",
            Scope::Prompt => "prompt",
            Scope::Plan => "plan",
        }
    }

    /// The heading the help overlay shows.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Running => "While a query runs",
            Scope::Global => "Anywhere",
            Scope::Pane(Focus::Sources) => "Sources",
            Scope::Pane(Focus::Schema) => "Schema",
            Scope::Pane(Focus::Editor) => "Editor (other keys edit the SQL)",
            Scope::Pane(Focus::Results) => "Results",
            Scope::Help => "Help",
            Scope::Detail => "Cell and source detail",
            Scope::CopyMenu => "Copy format menu",
            Scope::Export => "Export prompt (other keys type the file name)",
            Scope::Form => "Source form (other keys type)",
            Scope::Confirm => "Delete confirmation",
            Scope::Filter => "Source filter (other keys type)",
            Scope::Completion => "Completion (typing goes on)",
            Scope::History => "History search (other keys type)",
            Scope::Prompt => "Limit prompt (other keys type)",
            Scope::Plan => "Plan view",
        }
    }

    /// Whether keys bound nowhere are typed into this scope's text (a field, a search).
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Scope::Pane(Focus::Editor)
                | Scope::Export
                | Scope::Form
                | Scope::Filter
                | Scope::Completion
                | Scope::History
                | Scope::Prompt
        )
    }

    fn parse(name: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One key with its modifiers, normalised so the same key always compares equal (a `?`
/// typed with Shift is just `?`; Shift-Tab is `BackTab`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code, mods }
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        Key::new(ev.code, ev.modifiers)
    }

    /// Parses `ctrl-q`, `f5`, `shift-tab`, `?`, `G`, `pagedown`.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break; // "ctrl-" alone is not a key; "-" after it would be
            }
            mods |= m;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" => KeyCode::Delete,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(format!("unknown key \"{s}\"")),
                },
                _ => return Err(format!("unknown key \"{s}\"")),
            },
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The keys the editor's text area handles itself (ratatui-textarea's, Emacs-like), listed
/// in the help under the editor's bindings. A binding of the same key in `[editor]` wins.
pub const EDITOR_OWN_KEYS: &[(&str, &str)] = &[
    ("← → ↑ ↓", "move (Shift selects)"),
    ("Ctrl-← Ctrl-→", "a word back / forward"),
    ("Home Ctrl-A", "to the start of the line"),
    ("End Ctrl-E", "to the end of the line"),
    ("Alt-< Alt->", "to the top / bottom of the text"),
    ("PgUp PgDn", "scroll by a page (also Alt-V / Ctrl-V)"),
    ("Backspace Ctrl-H", "delete the character before"),
    ("Delete Ctrl-D", "delete the character under the cursor"),
    ("Ctrl-W", "delete the word before (also Alt-Backspace)"),
    ("Alt-D Alt-Delete", "delete the word after"),
    ("Ctrl-K", "delete to the end of the line"),
    ("Ctrl-J", "delete to the start of the line"),
    (
        "Ctrl-X Ctrl-C",
        "cut / copy the selection (inside the editor)",
    ),
    ("Enter Tab", "a new line / a tab"),
];

/// What decides which scopes a key is looked up in.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub focus: Focus,
    pub overlay: Option<Scope>,
    pub running: bool,
}

/// An action and every key bound to it in one scope.
pub type Binding = (Vec<Key>, Action);

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    scopes: HashMap<Scope, HashMap<Key, Action>>,
}

impl Keymap {
    /// The keys embedded in the binary.
    pub fn defaults() -> Result<Keymap, String> {
        let mut map = Keymap::default();
        map.apply_toml(DEFAULTS)?;
        Ok(map)
    }

    /// Layers bindings in the keymap format over the current ones; errors name the line's
    /// section and key.
    pub fn apply_toml(&mut self, text: &str) -> Result<(), String> {
        let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
        for (section, entries) in table {
            Scope::parse(&section).ok_or_else(|| format!("unknown section [{section}]"))?;
            let toml::Value::Table(entries) = entries else {
                return Err(format!("[{section}] must be a table of key = \"action\""));
            };
            for (key, action) in entries {
                let name = action
                    .as_str()
                    .ok_or_else(|| format!("[{section}] {key}: the action must be a string"))?;
                self.bind(&section, &key, name)
                    .map_err(|e| format!("[{section}] {e}"))?;
            }
        }
        Ok(())
    }

    /// Binds `key` in the scope named `section` to the action named `action`; the action
    /// `none` takes the key away (so a config can free a default key).
    pub fn bind(&mut self, section: &str, key: &str, action: &str) -> Result<(), String> {
        let scope = Scope::parse(section).ok_or_else(|| format!("unknown section [{section}]"))?;
        let k = Key::parse(key)?;
        let bindings = self.scopes.entry(scope).or_default();
        if action == "none" {
            bindings.remove(&k);
            return Ok(());
        }
        let a = Action::from_name(action)
            .ok_or_else(|| format!("{key}: unknown action \"{action}\""))?;
        bindings.insert(k, a);
        Ok(())
    }

    /// The action of a key, looking in the scopes that apply in order.
    pub fn lookup(&self, ctx: Context, key: Key) -> Option<Action> {
        let order = [
            ctx.running.then_some(Scope::Running),
            ctx.overlay,
            ctx.overlay.is_none().then_some(Scope::Pane(ctx.focus)),
            Some(Scope::Global),
        ];
        order
            .into_iter()
            .flatten()
            .find_map(|s| self.scopes.get(&s)?.get(&key).cloned())
    }

    /// The keys bound to `action` in `scope`, named keys before letters, for hints and help.
    pub fn keys_for(&self, scope: Scope, action: &Action) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .scopes
            .get(&scope)
            .into_iter()
            .flatten()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| *k)
            .collect();
        keys.sort_by_key(|k| {
            (
                !k.mods.is_empty(),
                matches!(k.code, KeyCode::Char(_)),
                k.to_string(),
            )
        });
        keys
    }

    /// Every binding of a scope as (keys, action), in the order of [`Action::BINDABLE`].
    pub fn bindings(&self, scope: Scope) -> Vec<Binding> {
        Action::BINDABLE
            .iter()
            .map(|(_, a)| (self.keys_for(scope, a), a.clone()))
            .filter(|(keys, _)| !keys.is_empty())
            .collect()
    }

    /// The first key of `action` in `scope` as text, for the status bar's hints.
    pub fn hint(&self, scope: Scope, action: &Action) -> Option<String> {
        self.keys_for(scope, action).first().map(Key::to_string)
    }

    /// What the help lists, scope by scope: each scope that has a binding, and the editor
    /// always (its unbound keys type). The drawing styles it and the app counts its rows to
    /// stop scrolling at the end, so both read it here.
    pub fn help(&self) -> Vec<(Scope, Vec<Binding>)> {
        Scope::ALL
            .into_iter()
            .map(|scope| (scope, self.bindings(scope)))
            .filter(|(scope, bindings)| {
                !bindings.is_empty() || *scope == Scope::Pane(Focus::Editor)
            })
            .collect()
    }

    /// The help's rows: a title per scope, one per binding, a blank one between scopes.
    /// The editor's section also lists [`EDITOR_OWN_KEYS`].
    pub fn help_rows(&self) -> usize {
        let help = self.help();
        let rows: usize = help.iter().map(|(_, bindings)| 1 + bindings.len()).sum();
        rows + help.len().saturating_sub(1) + EDITOR_OWN_KEYS.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::action::Motion;

    fn ctx(focus: Focus) -> Context {
        Context {
            focus,
            overlay: None,
            running: false,
        }
    }

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn defaults_parse_and_carry_the_contract_keys() {
        let map = Keymap::defaults().unwrap();
        for focus in [Focus::Sources, Focus::Schema, Focus::Editor, Focus::Results] {
            let c = ctx(focus);
            assert_eq!(map.lookup(c, key("f5")), Some(Action::RunQuery));
            assert_eq!(map.lookup(c, key("ctrl-enter")), Some(Action::RunQuery));
            assert_eq!(map.lookup(c, key("tab")), Some(Action::FocusNext));
            assert_eq!(map.lookup(c, key("shift-tab")), Some(Action::FocusPrev));
            assert_eq!(map.lookup(c, key("f1")), Some(Action::OpenHelp));
            assert_eq!(map.lookup(c, key("ctrl-q")), Some(Action::Quit));
            let running = Context { running: true, ..c };
            assert_eq!(map.lookup(running, key("esc")), Some(Action::CancelQuery));
        }
        // `?` is help outside the editor only: in the editor it is typed.
        assert_eq!(
            map.lookup(ctx(Focus::Results), key("?")),
            Some(Action::OpenHelp)
        );
        assert_eq!(map.lookup(ctx(Focus::Editor), key("?")), None);
        assert_eq!(map.lookup(ctx(Focus::Editor), key("j")), None);
    }

    #[test]
    fn an_overlay_takes_keys_before_the_pane() {
        let map = Keymap::defaults().unwrap();
        let c = Context {
            focus: Focus::Results,
            overlay: Some(Scope::Detail),
            running: false,
        };
        assert_eq!(map.lookup(c, key("enter")), Some(Action::CloseOverlay));
        assert_eq!(
            map.lookup(c, key("j")),
            Some(Action::Move {
                motion: Motion::Down
            })
        );
        assert_eq!(map.lookup(c, key("f5")), Some(Action::RunQuery));
    }

    #[test]
    fn keys_normalise_shift_on_characters() {
        let typed = Key::from_event(&KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT));
        assert_eq!(typed, key("?"));
        let backtab = Key::from_event(&KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
        assert_eq!(backtab, key("backtab"));
        assert_eq!(key("ctrl-q").to_string(), "Ctrl-Q");
        assert_eq!(key("G").to_string(), "G");
        assert_eq!(
            key("ctrl--"),
            Key::new(KeyCode::Char('-'), KeyModifiers::CONTROL)
        );
    }

    #[test]
    fn bad_config_lines_are_named() {
        let mut map = Keymap::default();
        assert_eq!(
            map.apply_toml("[results]\nx = \"fly\"").unwrap_err(),
            "[results] x: unknown action \"fly\""
        );
        assert_eq!(
            map.apply_toml("[nowhere]\nx = \"quit\"").unwrap_err(),
            "unknown section [nowhere]"
        );
        assert_eq!(
            map.apply_toml("[global]\nhyper-x = \"quit\"").unwrap_err(),
            "[global] unknown key \"hyper-x\""
        );
    }
}
