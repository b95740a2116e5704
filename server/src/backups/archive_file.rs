//! Archive files in the backup folder: written through gzip while their SHA-256 is
//! computed (a `<file>.sha256` beside each, `sha256sum -c` format), checked again before a
//! restore, read back as a stream of the uncompressed tar, removed by retention.

use super::Made;
use bytes::Bytes;
use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use futures::Stream;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The path of `file` in `dir`: a bare file name only (nothing that climbs out).
pub fn inside(dir: &Path, file: &str) -> Result<PathBuf, String> {
    let bare = !file.is_empty()
        && !file.starts_with('.')
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if bare {
        Ok(dir.join(file))
    } else {
        Err(format!("not a backup file name: {file:?}"))
    }
}

/// A file being written: bytes go in on any thread, [`Writer::finish`] waits for the file.
pub struct Writer {
    tx: std::sync::mpsc::SyncSender<Bytes>,
    done: tokio::task::JoinHandle<Result<Made, String>>,
}

impl Writer {
    /// Starts writing `dir/file` (through a `.partial` name until it is complete); with
    /// `gzip` the bytes are compressed on the way.
    pub fn start(dir: &Path, file: &str, gzip: bool) -> Result<Writer, String> {
        super::ensure_dir(dir)?;
        let path = inside(dir, file)?;
        let partial = path.with_extension("partial");
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(32);
        let name = file.to_owned();
        let done = tokio::task::spawn_blocking(move || {
            let write = || -> std::io::Result<(u64, String)> {
                let mut out = Hashing::new(BufWriter::new(File::create(&partial)?));
                if gzip {
                    let mut gz = GzEncoder::new(&mut out, Compression::default());
                    for chunk in rx {
                        gz.write_all(&chunk)?;
                    }
                    gz.finish()?;
                } else {
                    for chunk in rx {
                        out.write_all(&chunk)?;
                    }
                }
                out.inner.flush()?;
                out.inner.get_ref().sync_all()?;
                Ok((out.size, hex::encode(out.hash.finalize())))
            };
            let (size, sha256) = write().map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                format!("cannot write the backup file: {e}")
            })?;
            std::fs::rename(&partial, &path).map_err(|e| e.to_string())?;
            let sidecar = format!("{sha256}  {name}\n");
            std::fs::write(path.with_file_name(format!("{name}.sha256")), sidecar)
                .map_err(|e| e.to_string())?;
            Ok(Made {
                file: name,
                size,
                sha256,
            })
        });
        Ok(Writer { tx, done })
    }

    /// Takes one chunk (blocks while the writer is 32 chunks behind).
    pub fn send(&self, chunk: Bytes) -> std::io::Result<()> {
        self.tx
            .send(chunk)
            .map_err(|_| std::io::Error::other("the backup file writer stopped"))
    }

    /// Ends the file; what was written.
    pub async fn finish(self) -> Result<Made, String> {
        drop(self.tx);
        self.done.await.map_err(|e| e.to_string())?
    }
}

struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            size: 0,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 (hex) of a file.
pub async fn sha256_of(path: PathBuf) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let mut f =
            File::open(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = f.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
        }
        Ok(hex::encode(hash.finalize()))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The uncompressed content of a `.tar.gz`, as a stream of chunks.
pub fn gunzip_stream(
    path: PathBuf,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut gz = GzDecoder::new(std::io::BufReader::new(file));
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match gz.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// Removes an archive and the files beside it (gone already: fine).
pub fn remove(dir: &Path, file: &str) {
    if let Ok(path) = inside(dir, file) {
        for p in [
            path.clone(),
            path.with_file_name(format!("{file}.sha256")),
            path.with_file_name(format!("{file}.manifest.json")),
        ] {
            let _ = std::fs::remove_file(p);
        }
    }
}
