//! The one place policyc writes files (`fmt`, `snapshot --update`,
//! `compile -o`), so that a write never damages what it replaces:
//!
//! - a symbolic link (given, or found by discovery) is followed: its target
//!   is rewritten and the link stays a link;
//! - an existing file keeps its mode and its owner and group; a new file
//!   gets `0666` less the umask, like any tool that creates a file;
//! - a file or directory without write permission (no write bit at all,
//!   even for root, or an `open` for writing that fails) is refused with a
//!   diagnostic, and nothing is written;
//! - a target that is not a regular file (`/dev/null`, a FIFO,
//!   `/dev/stdout`) is written to directly, never renamed over;
//! - a target that is one of the command's inputs (same device and inode,
//!   so through links too) is refused;
//! - a regular file is replaced atomically: the new text goes to an unnamed
//!   temporary file in the target's directory (Linux `O_TMPFILE`), which
//!   gets a name only once complete, just before the `rename`. A process
//!   killed mid-write leaves nothing behind. Where `O_TMPFILE` is not
//!   available the temporary file is named `.NAME.policyc-PID-N.tmp` and
//!   removed on any error.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use policy_syntax::{Code, Diagnostic};

use super::display_name;

/// How many symbolic links are followed before giving up (as `ELOOP`).
const MAX_LINKS: usize = 40;

fn cannot_write(path: &Path, why: &str, help: &str) -> Diagnostic {
    Diagnostic::new(
        Code::CannotWrite,
        format!("cannot write `{}`: {why}", display_name(path)),
    )
    .help(help.to_string())
}

fn io_why(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "the directory does not exist".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string().to_lowercase(),
    }
}

fn io_fail(path: &Path, e: &std::io::Error) -> Diagnostic {
    cannot_write(
        path,
        &io_why(e),
        "check that the directory exists and is writable",
    )
}

/// Follows symbolic links from `path` to the file they finally name, which
/// need not exist yet (a dangling link names the file to create); and
/// whether the way there passes through `/dev` or `/proc`.
fn resolve(path: &Path) -> Result<(PathBuf, bool), Diagnostic> {
    let mut current = path.to_path_buf();
    let mut via_device = false;
    for _ in 0..MAX_LINKS {
        via_device |= current.starts_with("/dev") || current.starts_with("/proc");
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).map_err(|e| io_fail(path, &e))?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok((current, via_device)),
        }
    }
    Err(cannot_write(
        path,
        "too many levels of symbolic links",
        "check the links for a cycle",
    ))
}

/// Whether `meta` has no write bit at all (`chmod a-w`).
fn read_only(meta: &std::fs::Metadata) -> bool {
    meta.permissions().readonly()
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// Writes `bytes` to `path` as described in the module documentation.
/// `inputs` are files the command read: writing over one is refused. On any
/// error the target is left as it was, nothing else is left behind, and the
/// diagnostic names the path (exit 2).
pub fn write_file(path: &Path, bytes: &[u8], inputs: &[&Path]) -> Result<(), Diagnostic> {
    let existing = std::fs::metadata(path).ok();
    if let Some(meta) = &existing {
        for input in inputs {
            if std::fs::metadata(input).is_ok_and(|m| same_file(meta, &m)) {
                return Err(Diagnostic::new(
                    Code::OutputIsInput,
                    format!(
                        "refusing to write `{}`: it is the input `{}`",
                        display_name(path),
                        display_name(input)
                    ),
                )
                .help("write the output to another file"));
            }
        }
        if meta.is_dir() {
            return Err(cannot_write(
                path,
                "it is a directory",
                "name a file, not a directory",
            ));
        }
        if !meta.is_file() {
            return write_in_place(path, bytes, true);
        }
    }
    let (target, via_device) = resolve(path)?;
    // A name such as `/dev/stdout` (`/proc/self/fd/1`) that resolves to a
    // regular file (stdout redirected to one) is written through, not replaced.
    if via_device {
        return write_in_place(path, bytes, existing.is_some());
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match std::fs::metadata(&dir) {
        Ok(m) if !m.is_dir() => {
            return Err(cannot_write(
                path,
                &format!("`{}` is not a directory", display_name(&dir)),
                "check the path",
            ))
        }
        Ok(m) if read_only(&m) => {
            return Err(cannot_write(
                path,
                &format!("the directory `{}` is read-only", display_name(&dir)),
                "make the directory writable, or write elsewhere",
            ))
        }
        Ok(_) => {}
        Err(e) => return Err(io_fail(path, &e)),
    }
    if let Some(meta) = &existing {
        if read_only(meta) {
            return Err(cannot_write(
                path,
                "the file is read-only",
                "make the file writable (`chmod u+w`) if it should be rewritten",
            ));
        }
        // An open for writing (without truncating) changes nothing, and
        // fails exactly when this user may not write the file.
        if let Err(e) = OpenOptions::new().write(true).open(&target) {
            return Err(cannot_write(
                path,
                &io_why(&e),
                "make the file writable if it should be rewritten",
            ));
        }
    }
    let mut tmp = Temp::create(&dir, &target).map_err(|e| io_fail(path, &e))?;
    let result = (|| {
        tmp.file.write_all(bytes)?;
        if let Some(meta) = &existing {
            tmp.file.set_permissions(meta.permissions())?;
            if !keep_owner(&tmp.file, meta)? {
                return Ok(false);
            }
        }
        tmp.file.sync_all()?;
        tmp.commit(&target)?;
        Ok(true)
    })();
    match result {
        Ok(true) => Ok(()),
        // The file belongs to someone this process cannot give it back to:
        // rewrite it in place, which keeps its owner, mode and inode.
        Ok(false) => {
            drop(tmp);
            write_in_place(&target, bytes, true)
        }
        Err(e) => Err(io_fail(path, &e)),
    }
}

/// Gives the new file the owner and group of the old one. `Ok(false)` when
/// this process may not (not root, and the file is someone else's).
#[cfg(unix)]
fn keep_owner(file: &File, old: &std::fs::Metadata) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let new = file.metadata()?;
    if new.uid() == old.uid() && new.gid() == old.gid() {
        return Ok(true);
    }
    match std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn keep_owner(_: &File, _: &std::fs::Metadata) -> std::io::Result<bool> {
    Ok(true)
}

/// Writes straight into an existing file (a device, a FIFO, a file this
/// process may not replace), or creates it.
fn write_in_place(path: &Path, bytes: &[u8], exists: bool) -> Result<(), Diagnostic> {
    let fail = |e: std::io::Error| io_fail(path, &e);
    let mut file = open_for_writing(path, exists).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.flush().map_err(fail)?;
    Ok(())
}

/// Opens for writing like a shell's `>`: a FIFO waits for its reader (the
/// user named it as the output), a device is written as it is.
fn open_for_writing(path: &Path, exists: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(!exists).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o666);
    }
    options.open(path)
}

/// The temporary file a new text is written to before it replaces the target.
struct Temp {
    file: File,
    /// Its name, once it has one (always, where `O_TMPFILE` is missing).
    named: Option<PathBuf>,
}

impl Temp {
    fn create(dir: &Path, target: &Path) -> std::io::Result<Temp> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{Mode, OFlags, CWD};
            match rustix::fs::openat(
                CWD,
                dir,
                OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o666),
            ) {
                Ok(fd) => {
                    return Ok(Temp {
                        file: File::from(fd),
                        named: None,
                    })
                }
                // The file system has no unnamed files: use a named one.
                Err(e)
                    if e == rustix::io::Errno::OPNOTSUPP
                        || e == rustix::io::Errno::ISDIR
                        || e == rustix::io::Errno::INVAL
                        || e == rustix::io::Errno::NOSYS => {}
                Err(e) => return Err(e.into()),
            }
        }
        let (file, name) = create_named(dir, target)?;
        Ok(Temp {
            file,
            named: Some(name),
        })
    }

    /// Gives the temporary file its final name, replacing the target.
    fn commit(&mut self, target: &Path) -> std::io::Result<()> {
        if self.named.is_none() {
            self.named = Some(self.link(target)?);
        }
        if let Some(name) = &self.named {
            std::fs::rename(name, target)?;
        }
        self.named = None;
        Ok(())
    }

    /// Links the unnamed file into its directory under a temporary name.
    #[cfg(target_os = "linux")]
    fn link(&self, target: &Path) -> std::io::Result<PathBuf> {
        use rustix::fs::{AtFlags, CWD};
        use std::os::fd::AsRawFd;
        let proc = format!("/proc/self/fd/{}", self.file.as_raw_fd());
        let dir = target.parent().unwrap_or(Path::new("."));
        let mut last = None;
        for n in 0..100 {
            let name = temp_name(dir, target, n);
            match rustix::fs::linkat(
                CWD,
                proc.as_str(),
                CWD,
                name.as_path(),
                AtFlags::SYMLINK_FOLLOW,
            ) {
                Ok(()) => return Ok(name),
                Err(e) if e == rustix::io::Errno::EXIST => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or_else(
            || std::io::Error::other("no free temporary name"),
            Into::into,
        ))
    }

    #[cfg(not(target_os = "linux"))]
    fn link(&self, _: &Path) -> std::io::Result<PathBuf> {
        Err(std::io::Error::other(
            "unnamed temporary files are Linux-only",
        ))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(name) = &self.named {
            let _ = std::fs::remove_file(name);
        }
    }
}

/// `.NAME.policyc-PID-N.tmp` beside the target: recognisably policyc's.
fn temp_name(dir: &Path, target: &Path, n: u32) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    dir.join(format!(".{name}.policyc-{}-{n}.tmp", std::process::id()))
}

fn create_named(dir: &Path, target: &Path) -> std::io::Result<(File, PathBuf)> {
    let mut last = None;
    for n in 0..100 {
        let name = temp_name(dir, target, n);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o666);
        }
        match options.open(&name) {
            Ok(f) => return Ok((f, name)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_temporary_file_has_no_name_until_it_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        let mut tmp = Temp::create(dir.path(), &target).unwrap();
        assert!(tmp.named.is_none(), "O_TMPFILE is used on Linux");
        tmp.file.write_all(b"new").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        tmp.commit(&target).unwrap();
        drop(tmp);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.json"]);
    }

    #[test]
    fn a_named_temporary_file_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        let (file, name) = create_named(dir.path(), &target).unwrap();
        let shown = name.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            shown.starts_with(".out.json.policyc-") && shown.ends_with(".tmp"),
            "{shown}"
        );
        drop(Temp {
            file,
            named: Some(name),
        });
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn links_are_followed_to_the_file_they_name() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("a");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("b", &link).unwrap();
            std::os::unix::fs::symlink("c", dir.path().join("b")).unwrap();
            let (target, via_device) = resolve(&link).unwrap();
            assert_eq!(target, dir.path().join("c"));
            assert!(!via_device);
            std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
            assert!(resolve(&dir.path().join("loop")).is_err());
        }
    }
}
