//! Terminal events into actions: keys through the keymap (in the editor, unbound keys are
//! typed), pastes, resizes. Key releases are ignored (terminals with the kitty keyboard
//! protocol report them).

use crossterm::event::{Event, KeyEventKind};

use super::action::Action;
use super::app::AppState;
use super::keymap::Key;
use super::panes::Focus;

pub fn to_action(app: &AppState, event: Event) -> Option<Action> {
    match event {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            let ctx = app.key_context();
            if let Some(action) = app.keymap.lookup(ctx, Key::from_event(&k)) {
                return Some(action);
            }
            (ctx.focus == Focus::Editor && ctx.overlay.is_none())
                .then(|| Action::EditorInput { input: k.into() })
        }
        Event::Paste(text) => Some(Action::Paste { text }),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}
