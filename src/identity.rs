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
    // SAFETY: getuid cannot fail and touches no memory.
    let uid = unsafe { libc::getuid() };
    user_name(uid, initial_buffer()).unwrap_or_else(|| format!("uid{uid}"))
}

/// The largest buffer a password-database lookup is given: far beyond any real entry, so a
/// broken NSS module that always asks for more cannot make tdb allocate without end.
const MAX_PASSWD_BUFFER: usize = 1 << 20;

/// What the system suggests for a `getpwuid_r` buffer, or 1 KiB when it has no opinion.
fn initial_buffer() -> usize {
    // SAFETY: sysconf only reads a constant of the C library.
    match unsafe { libc::sysconf(libc::_SC_GETPW_R_SIZE_MAX) } {
        n if n > 0 => usize::try_from(n).unwrap_or(1024),
        _ => 1024,
    }
}

/// The login name of `uid` from the password database (`/etc/passwd`, LDAP, …), or `None`
/// when it has no entry. `getpwuid_r`, not `getpwuid`: the latter hands back static storage
/// that a lookup on another thread (the runtime's workers, a connector) may overwrite while
/// this one reads it. The buffer starts at `size` and doubles while the entry does not fit.
fn user_name(uid: libc::uid_t, mut size: usize) -> Option<String> {
    loop {
        let mut buf: Vec<libc::c_char> = vec![0; size.max(1)];
        // SAFETY: passwd is plain old data (integers and pointers); all zeros is a valid value.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is to live memory of the size given; on success `entry`'s
        // strings point into `buf`, which outlives the copy below.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
        match rc {
            libc::EINTR => continue,
            libc::ERANGE if size < MAX_PASSWD_BUFFER => {
                size = size.max(1).saturating_mul(2);
                continue;
            }
            0 if !found.is_null() && !entry.pw_name.is_null() => {
                // SAFETY: on success pw_name is a NUL-terminated string inside `buf`.
                let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
                return Some(name.to_string_lossy().into_owned());
            }
            _ => return None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The name the system's own tool reports for this process's user.
    fn id_un() -> String {
        let out = std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn the_password_database_names_this_user() {
        let uid = unsafe { libc::getuid() };
        assert_eq!(user_name(uid, initial_buffer()).as_deref(), Some(&*id_un()));
    }

    #[test]
    fn a_buffer_too_small_grows_until_the_entry_fits() {
        let uid = unsafe { libc::getuid() };
        assert_eq!(user_name(uid, 1).as_deref(), Some(&*id_un()));
    }

    #[test]
    fn a_uid_without_an_entry_has_no_name() {
        // Far above any uid a system hands out, and not (uid_t)-1, which means "no change".
        assert_eq!(user_name(4_000_000_000, initial_buffer()), None);
    }
}
