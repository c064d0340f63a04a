//! A source's password as the registry could recover it. The registry produces it and the
//! connectors consume it; it sits in `core` so neither depends on the other.

use secrecy::SecretString;

#[derive(Debug, Clone)]
pub enum StoredSecret {
    None,
    Present(SecretString),
    /// Stored, but this machine's key cannot decrypt it (a registry copied elsewhere).
    Undecryptable,
}
