//! Terminal events into actions: keys through the keymap (in the editor and in text fields,
//! unbound keys are typed), pastes, resizes. Key releases are ignored (terminals with the
//! kitty keyboard protocol report them).

use crossterm::event::{Event, KeyEventKind};

use super::action::Action;
use super::app::AppState;
use super::keymap::{Key, Scope};

pub fn to_action(app: &AppState, event: Event) -> Option<Action> {
    match event {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            let ctx = app.key_context();
            if let Some(action) = app.keymap.lookup(ctx, Key::from_event(&k)) {
                return Some(action);
            }
            let scope = ctx.overlay.unwrap_or(Scope::Pane(ctx.focus));
            scope
                .takes_text()
                .then(|| Action::EditorInput { input: k.into() })
        }
        Event::Paste(text) => Some(Action::Paste { text }),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}
