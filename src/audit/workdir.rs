//! The private work directory shared with an adapter, handled as if the adapter were hostile.
//!
//! The adapter runs as the same user, so it can replace anything in the directory, or the
//! directory itself, by a symbolic link, a FIFO or a device. The rules kept here:
//! - the directory is created with mode 0700 (`DirBuilderExt::mode`) under a fresh name;
//! - the auditor reaches its files through an open handle on the directory
//!   (`/proc/self/fd/N/NAME` on Linux), so a directory renamed or swapped for a link after
//!   creation is not followed; without `/proc` the path is used only while `symlink_metadata`
//!   still shows the directory created (same device and inode);
//! - input files are created with `O_CREAT | O_EXCL | O_NOFOLLOW` (`create_new`), never
//!   through an existing name;
//! - result files are opened with `O_NOFOLLOW | O_NONBLOCK` and refused unless they are
//!   regular files (a FIFO would block the auditor; a link may point anywhere);
//! - at cleanup only the names the auditor created or assigned are removed, and the directory
//!   itself only if it is still the one created (same device and inode). Its remaining contents
//!   (files the adapter made in it) go with [`std::fs::remove_dir_all`], which does not follow
//!   symbolic links. A directory that was swapped is not descended into.
//!
//! Linux's values of the two `open(2)` flags are written out below (the crate has no `libc`
//! dependency); on other systems they are 0 and the `symlink_metadata` check stands alone.

use std::collections::BTreeSet;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `O_NOFOLLOW` (asm-generic/fcntl.h: 0o400000; arm and aarch64: 0o100000).
#[cfg(all(target_os = "linux", any(target_arch = "arm", target_arch = "aarch64")))]
const O_NOFOLLOW: i32 = 0o100000;
#[cfg(all(
    target_os = "linux",
    not(any(target_arch = "arm", target_arch = "aarch64"))
))]
const O_NOFOLLOW: i32 = 0o400000;
#[cfg(not(target_os = "linux"))]
const O_NOFOLLOW: i32 = 0;

/// `O_NONBLOCK` (asm-generic/fcntl.h: 0o4000, on every architecture std builds for Linux
/// except alpha, mips, parisc and sparc, which are left at 0 here).
#[cfg(all(
    target_os = "linux",
    not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
))]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(all(
    target_os = "linux",
    not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
)))]
const O_NONBLOCK: i32 = 0;

/// The auditor's side of the work directory.
#[derive(Debug)]
pub(crate) struct WorkDir {
    path: PathBuf,
    handle: File,
    dev: u64,
    ino: u64,
    /// Names the auditor created or told the adapter to create.
    names: BTreeSet<String>,
}

impl WorkDir {
    /// Creates `gumbel-audit-<pid>-<nanos>-<n>` (mode 0700) under `parent`, or the system's
    /// temporary directory.
    pub(crate) fn create(parent: Option<&Path>) -> Result<WorkDir, String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let fail = |e: io::Error| {
            format!(
                "could not create a work directory under {}: {e}",
                parent.display()
            )
        };
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!("gumbel-audit-{}-{nanos}-{n}", std::process::id()));
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(e)),
            }
            let handle = File::open(&path).map_err(fail)?;
            let meta = handle.metadata().map_err(fail)?;
            return Ok(WorkDir {
                path,
                handle,
                dev: meta.dev(),
                ino: meta.ino(),
                names: BTreeSet::new(),
            });
        }
        Err(fail(io::Error::other("100 names taken")))
    }

    /// The directory's path, as the adapter is told.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path the adapter is told for `name`; the name is remembered for cleanup.
    pub(crate) fn assign(&mut self, name: &str) -> PathBuf {
        self.names.insert(name.to_string());
        self.path.join(name)
    }

    /// Whether the path still names the directory created.
    fn still_ours(&self) -> bool {
        std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.is_dir() && m.dev() == self.dev && m.ino() == self.ino)
    }

    /// How the auditor itself reaches `name`: through the open handle where `/proc` allows,
    /// else through the path while it is still the directory created.
    fn own(&self, name: &str) -> io::Result<PathBuf> {
        let via_fd = PathBuf::from(format!("/proc/self/fd/{}", self.handle.as_raw_fd()));
        if std::fs::metadata(&via_fd)
            .is_ok_and(|m| m.is_dir() && m.dev() == self.dev && m.ino() == self.ino)
        {
            return Ok(via_fd.join(name));
        }
        if self.still_ours() {
            Ok(self.path.join(name))
        } else {
            Err(io::Error::other(
                "the work directory was replaced (it is no longer the directory the auditor created)",
            ))
        }
    }

    /// Creates `name` for writing, failing if anything (a file, a link) already has the name.
    pub(crate) fn create_file(&mut self, name: &str) -> io::Result<File> {
        let path = self.own(name)?;
        // A stale entry of ours (a link planted since is removed, not followed).
        let _ = std::fs::remove_file(&path);
        self.names.insert(name.to_string());
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(O_NOFOLLOW)
            .open(&path)
    }

    /// Opens the result file `name`; refuses links, FIFOs, devices, directories.
    pub(crate) fn open_result(&self, name: &str) -> Result<File, String> {
        let path = self.own(name).map_err(|e| e.to_string())?;
        let shown = self.path.join(name);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(format!(
                    "the adapter answered ok but wrote no result file {}",
                    shown.display()
                ));
            }
            Err(e) => return Err(format!("cannot inspect {}: {e}", shown.display())),
        };
        let kind = |m: &std::fs::Metadata| {
            let t = m.file_type();
            if t.is_symlink() {
                "a symbolic link"
            } else if t.is_dir() {
                "a directory"
            } else {
                use std::os::unix::fs::FileTypeExt;
                if t.is_fifo() {
                    "a FIFO"
                } else if t.is_socket() {
                    "a socket"
                } else if t.is_block_device() || t.is_char_device() {
                    "a device"
                } else {
                    "not a regular file"
                }
            }
        };
        let refuse = |what: &str| {
            format!(
                "the result {} is {what}, not a regular file: result files must be regular files \
                 written in the work directory (links, FIFOs and devices are refused)",
                shown.display()
            )
        };
        if !meta.file_type().is_file() {
            return Err(refuse(kind(&meta)));
        }
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(O_NOFOLLOW | O_NONBLOCK)
            .open(&path)
            .map_err(|e| format!("opening {}: {e}", shown.display()))?;
        match file.metadata() {
            Ok(m) if m.is_file() => Ok(file),
            Ok(m) => Err(refuse(kind(&m))),
            Err(e) => Err(format!("inspecting {}: {e}", shown.display())),
        }
    }

    /// Removes `name` (the entry itself, never what a link points to) and forgets it.
    pub(crate) fn remove(&mut self, name: &str) {
        if let Ok(p) = self.own(name) {
            let _ = std::fs::remove_file(p);
        }
        self.names.remove(name);
    }

    /// Removes the auditor's names, then the directory if it is still the one created.
    /// Returns a note when it was replaced and left alone.
    pub(crate) fn cleanup(mut self) -> Option<String> {
        let names: Vec<String> = self.names.iter().cloned().collect();
        for n in &names {
            self.remove(n);
        }
        if self.still_ours() {
            let _ = std::fs::remove_dir_all(&self.path);
            None
        } else if std::fs::symlink_metadata(&self.path).is_err() {
            Some(format!(
                "the work directory {} was removed or moved by the adapter",
                self.path.display()
            ))
        } else {
            Some(format!(
                "the work directory {} was replaced by something else (a symbolic link?) during \
                 the audit; it was not descended into or removed",
                self.path.display()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    fn scratch(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("workdir-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn private_and_cleaned_up() {
        let parent = scratch("private");
        let mut w = WorkDir::create(Some(&parent)).unwrap();
        let mode = std::fs::metadata(w.path()).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let mut f = w.create_file("1-y.npy").unwrap();
        f.write_all(b"x").unwrap();
        // The name exists now: a second exclusive creation fails unless the entry is removed.
        assert!(
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(w.path().join("1-y.npy"))
                .is_err()
        );
        std::fs::write(w.path().join("adapter-own.tmp"), b"y").unwrap();
        let path = w.path().to_path_buf();
        assert_eq!(w.cleanup(), None);
        assert!(!path.exists());
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn results_must_be_regular_files() {
        let parent = scratch("regular");
        let w = WorkDir::create(Some(&parent)).unwrap();
        let outside = parent.join("outside.npy");
        std::fs::write(&outside, b"secret").unwrap();
        std::os::unix::fs::symlink(&outside, w.path().join("1.npy")).unwrap();
        let fifo = Command::new("mkfifo")
            .arg(w.path().join("2.npy"))
            .status()
            .unwrap();
        assert!(fifo.success());
        std::fs::create_dir(w.path().join("3.npy")).unwrap();
        std::fs::write(w.path().join("4.npy"), b"ok").unwrap();
        assert!(
            w.open_result("1.npy")
                .unwrap_err()
                .contains("a symbolic link")
        );
        assert!(w.open_result("2.npy").unwrap_err().contains("a FIFO"));
        assert!(w.open_result("3.npy").unwrap_err().contains("a directory"));
        assert!(
            w.open_result("5.npy")
                .unwrap_err()
                .contains("wrote no result file")
        );
        assert!(w.open_result("4.npy").is_ok());
        drop(w);
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_swapped_directory_is_not_followed() {
        let parent = scratch("swapped");
        let outside = parent.join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("1.npy"), b"victim").unwrap();
        let mut w = WorkDir::create(Some(&parent)).unwrap();
        let path = w.path().to_path_buf();
        let out = w.assign("1.npy");
        assert_eq!(out, path.join("1.npy"));
        let moved = parent.join("moved");
        std::fs::rename(&path, &moved).unwrap();
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        // Writes and removals go to the directory created, wherever it is now.
        w.create_file("2-y.npy").unwrap();
        assert!(moved.join("2-y.npy").exists());
        assert!(!outside.join("2-y.npy").exists());
        w.remove("1.npy");
        let note = w.cleanup().unwrap();
        assert!(note.contains("replaced"), "{note}");
        assert_eq!(std::fs::read(outside.join("1.npy")).unwrap(), b"victim");
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
