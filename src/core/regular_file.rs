//! Opening a data file that must be a regular file, without ever blocking on it.
//!
//! `open(2)` of a FIFO with no writer blocks until one appears (forever, deaf to the
//! statement timeout and to Ctrl-C, since the thread is stuck in the kernel), and reading a
//! character device such as `/dev/zero` never ends. So the path is checked with `stat`,
//! then opened with `O_NONBLOCK` (which makes the open of a FIFO return at once) and checked
//! again with `fstat` on the handle, which catches a swap between the two steps.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a data file could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The operating system refused (missing, no permission, …).
    Io(io::Error),
    /// The path names something other than a regular file; the text says what.
    NotRegular(&'static str),
}

impl OpenError {
    /// Why, in a few words for a message about a path (`no such file`, `is a FIFO, not a
    /// regular file`).
    pub fn reason(&self) -> String {
        match self {
            OpenError::Io(e) => match e.kind() {
                io::ErrorKind::NotFound => "no such file".to_string(),
                io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            },
            OpenError::NotRegular("a directory") => "is a directory, not a file".to_string(),
            OpenError::NotRegular(kind) => format!("is {kind}, not a regular file"),
        }
    }
}

/// What the path is when it is not a regular file, in words for an error message.
pub fn non_regular_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else {
        Some("not a regular file")
    }
}

/// `stat` of `path` (following symlinks), refusing anything but a regular file.
pub fn stat_regular(path: &Path) -> Result<Metadata, OpenError> {
    let meta = std::fs::metadata(path).map_err(OpenError::Io)?;
    match non_regular_kind(&meta) {
        Some(kind) => Err(OpenError::NotRegular(kind)),
        None => Ok(meta),
    }
}

/// Opens `path` for reading if, and only if, it is a regular file; never blocks.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), OpenError> {
    stat_regular(path)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(OpenError::Io)?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if let Some(kind) = non_regular_kind(&meta) {
        return Err(OpenError::NotRegular(kind));
    }
    clear_nonblocking(&file).map_err(OpenError::Io)?;
    Ok((file, meta))
}

/// Reads of a regular file ignore `O_NONBLOCK` on Linux, but POSIX leaves it unspecified:
/// the flag goes once it has served the open.
fn clear_nonblocking(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl with F_GETFL/F_SETFL on a descriptor this function borrows from an open
    // File; no memory is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.csv");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            open_regular(&fifo),
            Err(OpenError::NotRegular("a named pipe (FIFO)"))
        ));
        assert!(matches!(
            open_regular(Path::new("/dev/null")),
            Err(OpenError::NotRegular("a character device"))
        ));
        assert!(matches!(
            open_regular(dir.path()),
            Err(OpenError::NotRegular("a directory"))
        ));
        assert!(matches!(
            open_regular(&dir.path().join("missing")),
            Err(OpenError::Io(e)) if e.kind() == io::ErrorKind::NotFound
        ));
    }

    #[test]
    fn regular_file_reads_normally() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "a\n1\n").unwrap();
        let (mut f, meta) = open_regular(&p).unwrap();
        assert_eq!(meta.len(), 4);
        let mut s = String::new();
        io::Read::read_to_string(&mut f, &mut s).unwrap();
        assert_eq!(s, "a\n1\n");
        // SAFETY: fcntl on an open descriptor.
        let flags = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0);
    }
}
