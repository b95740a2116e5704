//! An exclusive lock on the data directory, so two berth processes never share a cluster.

use std::{fs::File, io::Write, os::fd::AsRawFd, path::Path};

pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock or says which process holds it. The kernel drops it when the
    /// process ends, however it ends, so a crash never leaves a stale lock behind.
    pub fn acquire(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join("berth.lock");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        // SAFETY: flock on a file descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "another berth (pid {}) is already running on the data directory {}; stop it first or choose another BERTH_DATA_DIR",
                holder.trim().parse::<u32>().map_or("unknown".to_owned(), |p| p.to_string()),
                data_dir.display()
            );
        }
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        file.sync_all()?;
        Ok(DataDirLock { _file: file })
    }
}
