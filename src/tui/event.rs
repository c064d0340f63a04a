//! Terminal events into actions: keys through the keymap (in the editor and in text fields,
//! unbound keys are typed), pastes, resizes, mouse clicks and the wheel. Key releases are ignored
//! (terminals with the kitty keyboard protocol report them).

use crossterm::event::{Event, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

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
        Event::Mouse(m) => mouse(m),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

/// A left click, a drag with the left button held (a border moved) or a turn of the
/// wheel; releases and bare moves mean nothing to tdb.
fn mouse(m: MouseEvent) -> Option<Action> {
    let (x, y) = (m.column, m.row);
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click { x, y }),
        MouseEventKind::Drag(MouseButton::Left) => Some(Action::Drag { x, y }),
        MouseEventKind::ScrollDown => Some(Action::Wheel { x, y, down: true }),
        MouseEventKind::ScrollUp => Some(Action::Wheel { x, y, down: false }),
        _ => None,
    }
}
