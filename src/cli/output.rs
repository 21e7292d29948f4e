//! Where a command's data goes: stdout, or the file of `-o FILE`.
//!
//! `-o FILE` never harms what is there:
//! - a regular file (or no file) is replaced atomically, and only when the
//!   command succeeds: the data goes to a temporary file beside it, which is
//!   flushed to disk and renamed over FILE. A replaced file keeps its mode; a
//!   new one gets the mode the umask gives (0644 under 022), as `>` would.
//! - a symbolic link is followed, and its target is replaced (so a link into
//!   a dotfiles repository stays a link);
//! - a device, FIFO or socket (`-o /dev/stdout`, `-o /dev/null`, a named
//!   pipe) is opened and written directly: renaming over it would replace
//!   the node itself with a regular file;
//! - `-o -` means stdout.
//!
//! SIGINT and SIGTERM while the temporary file exists remove it before the
//! process dies of the signal, so an interrupted run leaves nothing behind.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use crate::error::Error;

/// Buffer size for stdout and files: large enough that the stream codec
/// rarely splits a line across two writes.
pub const BUF_SIZE: usize = 256 * 1024;

/// Symbolic links followed before giving up, as the kernel does (ELOOP).
const MAX_LINKS: usize = 40;

/// What `-o` names, once symbolic links are followed.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Stdout,
    /// A regular file, or none yet: replaced through a temporary file. The
    /// mode is that of the file being replaced.
    Replace {
        path: PathBuf,
        mode: Option<u32>,
    },
    /// A device, FIFO or socket: written in place.
    Direct(PathBuf),
}

/// Decides how to write to `path` (the argument of `-o`).
pub fn target(path: &Path) -> Result<Target, Error> {
    if path == Path::new("-") {
        return Ok(Target::Stdout);
    }
    let shown = path.display();
    let cannot = |e| Error::io(format!("cannot write {shown}"), e);
    // metadata() lets the kernel follow the links, /proc's included
    // (`-o /dev/stdout`).
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Target::Replace {
            path: fs::canonicalize(path).map_err(cannot)?,
            mode: Some(meta.permissions().mode() & 0o7777),
        }),
        Ok(meta) if meta.is_dir() => Err(cannot(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        ))),
        // A FIFO, a device or a socket.
        Ok(_) => Ok(Target::Direct(path.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::Replace {
            path: dangling_target(path).map_err(cannot)?,
            mode: None,
        }),
        Err(e) => Err(cannot(e)),
    }
}

/// Where a file that does not exist yet will be: `path` itself, or the end
/// of the chain of links that starts there.
fn dangling_target(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Runs `write` against the target, leaving a replaced file untouched when
/// it fails.
pub fn write_to(
    target: &Target,
    shown: &str,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match target {
        Target::Stdout => {
            stdout_is_open()?;
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(BUF_SIZE, stdout.lock());
            write(&mut out)?;
            out.flush()
                .map_err(|e| Error::io("writing stdout", e).into())
        }
        Target::Direct(path) => {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(format!("cannot open {shown}"), e))?;
            let mut out = BufWriter::with_capacity(BUF_SIZE, file);
            write(&mut out)?;
            out.flush()
                .map_err(|e| Error::io(format!("writing {shown}"), e).into())
        }
        Target::Replace { path, mode } => replace(path, *mode, shown, write),
    }
}

fn replace(
    path: &Path,
    mode: Option<u32>,
    shown: &str,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // open(2) applies the umask to 0666, as a shell's `>` does.
    let (tmp, _guard) = CleanupOnSignal::create(|| {
        tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(Permissions::from_mode(0o666))
            .tempfile_in(&dir)
    })
    .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
    if let Some(mode) = mode {
        tmp.as_file()
            .set_permissions(Permissions::from_mode(mode))
            .map_err(|e| Error::io(format!("writing {shown}"), e))?;
    }
    let mut out = BufWriter::with_capacity(BUF_SIZE, tmp);
    write(&mut out)?;
    let tmp = out
        .into_inner()
        .map_err(|e| Error::io(format!("writing {shown}"), e.into_error()))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(format!("writing {shown}"), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(format!("writing {shown}"), e.error))?;
    Ok(())
}

/// The temporary file to remove when a signal ends the process.
static PENDING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Registers a temporary file for removal on SIGINT or SIGTERM for as long
/// as it lives; the signal then ends the process as it would have.
struct CleanupOnSignal;

impl CleanupOnSignal {
    /// Creates the temporary file with `make` and registers it. The signal
    /// watcher is running before the file exists, and the registry is locked
    /// while it is made, so no signal can fall between the two.
    fn create(
        make: impl FnOnce() -> io::Result<tempfile::NamedTempFile>,
    ) -> io::Result<(tempfile::NamedTempFile, CleanupOnSignal)> {
        static WATCH: Once = Once::new();
        WATCH.call_once(|| {
            use signal_hook::consts::{SIGINT, SIGTERM};
            // Without a watcher the signal still kills the process; only the
            // cleanup is lost, so a failure here is not fatal.
            if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
                std::thread::spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        let pending = pending().take();
                        if let Some(p) = pending {
                            let _ = fs::remove_file(p);
                        }
                        // Die of the signal, so the parent sees how we ended.
                        let _ = signal_hook::low_level::emulate_default_handler(sig);
                        std::process::exit(128 + sig);
                    }
                });
            }
        });
        let mut slot = pending();
        let tmp = make()?;
        *slot = Some(tmp.path().to_path_buf());
        Ok((tmp, CleanupOnSignal))
    }
}

fn pending() -> std::sync::MutexGuard<'static, Option<PathBuf>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for CleanupOnSignal {
    fn drop(&mut self) {
        *pending() = None;
    }
}

/// Whether file descriptor 1 was open when the process started. Rust's
/// runtime reopens a closed stdout on /dev/null before `main`, which would
/// turn `tool >&-` into a silent success; this is read before that, from
/// the ELF constructors that run ahead of the runtime.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static CHECK_STDOUT: extern "C" fn() = {
    extern "C" fn check() {
        // SAFETY: fcntl with F_GETFD only queries the descriptor's flags.
        let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
        STDOUT_CLOSED.store(closed, Ordering::Relaxed);
    }
    check
};

/// A closed stdout is an I/O error (74), not a silent success.
fn stdout_is_open() -> Result<(), Error> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Err(Error::io(
            "writing stdout",
            io::Error::from_raw_os_error(libc::EBADF),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    fn ok(data: &'static str) -> impl FnOnce(&mut dyn Write) -> anyhow::Result<()> {
        move |w| Ok(w.write_all(data.as_bytes())?)
    }

    #[test]
    fn dash_is_stdout() {
        assert_eq!(target(Path::new("-")).unwrap(), Target::Stdout);
    }

    #[test]
    fn a_symlink_is_followed_and_its_target_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.txt");
        symlink("real.txt", &link).unwrap();
        let t = target(&link).unwrap();
        write_to(&t, "link.txt", ok("new")).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(read(&real), "new");
    }

    #[test]
    fn a_dangling_symlink_creates_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.txt");
        symlink("made.txt", &link).unwrap();
        write_to(&target(&link).unwrap(), "link.txt", ok("x")).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(read(&dir.path().join("made.txt")), "x");
    }

    #[test]
    fn a_replaced_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out.txt");
        fs::write(&f, "old").unwrap();
        fs::set_permissions(&f, Permissions::from_mode(0o640)).unwrap();
        write_to(&target(&f).unwrap(), "out.txt", ok("new")).unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(read(&f), "new");
    }

    #[test]
    fn a_failure_leaves_the_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out.txt");
        fs::write(&f, "old").unwrap();
        let err = write_to(&target(&f).unwrap(), "out.txt", |w| {
            w.write_all(b"partial")?;
            anyhow::bail!("bad data")
        });
        assert!(err.is_err());
        assert_eq!(read(&f), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(target(dir.path()).is_err());
    }

    #[test]
    fn a_link_loop_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        symlink("b", &a).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        assert!(target(&a).is_err());
    }

    #[test]
    fn a_device_is_written_in_place() {
        assert_eq!(
            target(Path::new("/dev/null")).unwrap(),
            Target::Direct("/dev/null".into())
        );
    }
}
