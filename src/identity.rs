//! Who is running tdb, as the registry (`registered_by`) and the audit log record it.

use std::sync::OnceLock;

/// `user@host`, from the OS.
pub fn actor() -> String {
    static ACTOR: OnceLock<String> = OnceLock::new();
    ACTOR
        .get_or_init(|| {
            let host = gethostname::gethostname().to_string_lossy().into_owned();
            format!(
                "{}@{}",
                os_user(),
                if host.is_empty() { "localhost" } else { &host }
            )
        })
        .clone()
}

fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Some(u) = std::env::var(var).ok().filter(|u| !u.is_empty()) {
            return u;
        }
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy the name out
    // at once and never keep the pointer.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
        format!("uid{}", libc::getuid())
    }
}

/// The address an SSH session came from (`$SSH_CLIENT`'s first field), if any.
pub fn ssh_client() -> Option<String> {
    std::env::var("SSH_CLIENT")
        .ok()
        .and_then(|v| v.split_whitespace().next().map(str::to_string))
        .or_else(|| {
            std::env::var("SSH_CONNECTION")
                .ok()
                .and_then(|v| v.split_whitespace().next().map(str::to_string))
        })
}

/// One id per tdb process, so audit lines of one session can be grouped.
pub fn session() -> &'static str {
    static SESSION: OnceLock<String> = OnceLock::new();
    SESSION.get_or_init(|| uuid::Uuid::new_v4().to_string())
}
