//! The blob store: build artifacts kept content-addressed by SHA-256 under the data directory.
//!
//! A blob lives at `<data_dir>/blobs/sha256/<2 hex>/<62 hex>` and never changes once there.
//! An upload streams into a temporary file in `<data_dir>/blobs/tmp` (same file system), is
//! hashed while it is written, fsynced, checked against the digest the uploader announced, and
//! then hard-linked into place. A hard link, unlike a rename, refuses to replace an existing
//! file, so the same digest is stored once and two concurrent uploads of it both succeed: the
//! second finds the first's blob and drops its temporary file.
//!
//! File I/O runs on tokio's blocking pool (`std::fs`), so the async workers never block on disk.

use std::{
    fs::File,
    io::{self, Read, Write},
    path::{Path, PathBuf},
    pin::pin,
};

use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt, stream};
use sha2::{Digest, Sha256};

/// Directory of the blob store in the data directory.
pub const BLOBS_DIR_NAME: &str = "blobs";

/// How many bytes a download reads from disk at a time.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// How many received chunks may wait for the disk before the upload stops reading the body.
const WRITE_QUEUE_CHUNKS: usize = 8;

/// A SHA-256 digest as 64 lowercase hexadecimal digits, parsed once at the edge. Being the
/// proof that the text is hex, it is also the proof that it cannot name another path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha256Digest(String);

impl Sha256Digest {
    /// Parses 64 lowercase hexadecimal digits; anything else (upper case, `..`, `/`) is refused.
    pub fn parse(text: &str) -> Result<Self, BlobError> {
        let well_formed = text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(BlobError::InvalidDigest)
        }
    }

    /// The digest as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    /// True when this upload stored the blob; false when it was already stored.
    pub created: bool,
    /// The blob's size in bytes.
    pub size: u64,
}

/// Why a blob could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The digest is not 64 lowercase hexadecimal digits.
    #[error("sha256 must be 64 lowercase hexadecimal digits")]
    InvalidDigest,
    /// The content's digest is not the one announced; nothing was stored.
    #[error("the content's SHA-256 is {actual}, not {expected}")]
    DigestMismatch {
        /// The announced digest.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The content is larger than the limit; reading stopped there and nothing was stored.
    #[error("the content is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The request body could not be read (the client went away, a broken chunk).
    #[error("the body could not be read: {0}")]
    Body(String),
    /// The disk failed.
    #[error("blob store I/O: {0}")]
    Io(#[from] io::Error),
}

/// Content-addressed, immutable storage of artifacts.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens (creating) the store rooted at `dir`, normally `<data_dir>/blobs`, and removes
    /// temporary files that uploads interrupted by a crash left behind.
    pub fn open(dir: PathBuf) -> io::Result<BlobStore> {
        let store = BlobStore { root: dir };
        std::fs::create_dir_all(store.root.join("sha256"))?;
        let tmp = store.tmp_dir();
        std::fs::create_dir_all(&tmp)?;
        for entry in std::fs::read_dir(&tmp)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(store)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the blob with `digest` lives (whether or not it exists).
    pub fn path_of(&self, digest: &Sha256Digest) -> PathBuf {
        let (prefix, rest) = digest.as_str().split_at(2);
        self.root.join("sha256").join(prefix).join(rest)
    }

    /// Deletes the blob with `digest`; a blob that is not there is no error.
    pub async fn remove(&self, digest: &Sha256Digest) -> io::Result<()> {
        match tokio::fs::remove_file(self.path_of(digest)).await {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Stores `body`, which must hash to `expected` and hold at most `limit` bytes.
    ///
    /// The body is streamed to disk, never held in memory as a whole; reading stops as soon as
    /// it passes `limit`. On any error nothing is stored and the temporary file is removed.
    pub async fn put<S, E>(
        &self,
        expected: &Sha256Digest,
        body: S,
        limit: u64,
    ) -> Result<PutOutcome, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let temp = TempPath(
            self.tmp_dir()
                .join(format!("{}.part", uuid::Uuid::new_v4())),
        );
        let file = tokio::task::spawn_blocking({
            let path = temp.0.clone();
            move || {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
            }
        })
        .await
        .map_err(join_error)??;

        // One blocking task owns the file and the hasher; the bounded queue keeps memory
        // bounded when the disk is slower than the network.
        let (chunks, mut queue) = tokio::sync::mpsc::channel::<Bytes>(WRITE_QUEUE_CHUNKS);
        let writer = tokio::task::spawn_blocking(move || -> io::Result<(File, String)> {
            let mut file = file;
            let mut hasher = Sha256::new();
            while let Some(chunk) = queue.blocking_recv() {
                hasher.update(&chunk);
                file.write_all(&chunk)?;
            }
            Ok((file, hex::encode(hasher.finalize())))
        });

        let mut size = 0u64;
        let mut body = pin!(body);
        let read = loop {
            let Some(chunk) = body.next().await else {
                break Ok(());
            };
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => break Err(BlobError::Body(err.to_string())),
            };
            size += chunk.len() as u64;
            if size > limit {
                break Err(BlobError::TooLarge { limit });
            }
            if chunks.send(chunk).await.is_err() {
                // The writer stopped on an I/O error, which it reports below.
                break Ok(());
            }
        };
        drop(chunks);
        let written = writer.await.map_err(join_error)?;
        read?;
        let (file, actual) = written?;
        if actual != expected.as_str() {
            return Err(BlobError::DigestMismatch {
                expected: expected.to_string(),
                actual,
            });
        }

        let target = self.path_of(expected);
        let created = tokio::task::spawn_blocking(move || -> io::Result<bool> {
            file.sync_all()?;
            drop(file);
            let dir = target.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let created = match std::fs::hard_link(&temp.0, &target) {
                Ok(()) => true,
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => false,
                Err(err) => return Err(err),
            };
            if created {
                // Make the new directory entry durable before answering.
                File::open(dir)?.sync_all()?;
            }
            drop(temp);
            Ok(created)
        })
        .await
        .map_err(join_error)??;
        Ok(PutOutcome { created, size })
    }

    /// The blob's size, or `None` when it is not stored.
    pub async fn size(&self, digest: &Sha256Digest) -> io::Result<Option<u64>> {
        let path = self.path_of(digest);
        let metadata = tokio::task::spawn_blocking(move || std::fs::metadata(path))
            .await
            .map_err(io::Error::other)?;
        match metadata {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Whether the blob is stored.
    pub async fn exists(&self, digest: &Sha256Digest) -> io::Result<bool> {
        Ok(self.size(digest).await?.is_some())
    }

    /// Opens the blob for reading: the file and its size, or `None` when it is not stored.
    pub async fn open_blob(&self, digest: &Sha256Digest) -> io::Result<Option<(File, u64)>> {
        let path = self.path_of(digest);
        let opened = tokio::task::spawn_blocking(move || -> io::Result<(File, u64)> {
            let file = File::open(path)?;
            let size = file.metadata()?.len();
            Ok((file, size))
        })
        .await
        .map_err(io::Error::other)?;
        match opened {
            Ok(opened) => Ok(Some(opened)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// Streams an opened blob in chunks of 64 KiB, reading each on the blocking pool.
pub fn read_chunks(file: File) -> impl Stream<Item = io::Result<Bytes>> {
    stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0u8; READ_CHUNK_BYTES];
            let n = file.read(&mut buffer)?;
            buffer.truncate(n);
            Ok::<_, io::Error>((file, buffer))
        })
        .await
        .map_err(io::Error::other);
        match read {
            Ok(Ok((_, buffer))) if buffer.is_empty() => None,
            Ok(Ok((file, buffer))) => Some((Ok(Bytes::from(buffer)), Some(file))),
            Ok(Err(err)) | Err(err) => Some((Err(err), None)),
        }
    })
}

fn join_error(err: tokio::task::JoinError) -> BlobError {
    BlobError::Io(io::Error::other(err))
}

/// A temporary file removed when dropped, whatever ended the upload (an error, a dropped
/// request future); after a successful link only the temporary name goes, not the blob.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(content: &[u8]) -> Sha256Digest {
        Sha256Digest::parse(&hex::encode(Sha256::digest(content))).unwrap()
    }

    fn body(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, io::Error>> {
        stream::iter(
            parts
                .iter()
                .map(|part| Ok(Bytes::from_static(part)))
                .collect::<Vec<_>>(),
        )
    }

    fn leftovers(store: &BlobStore) -> usize {
        std::fs::read_dir(store.tmp_dir()).unwrap().count()
    }

    #[tokio::test]
    async fn stores_once_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join(BLOBS_DIR_NAME)).unwrap();
        let digest = digest_of(b"hello, world");
        let first = store
            .put(&digest, body(&[b"hello, ", b"world"]), 100)
            .await
            .unwrap();
        assert_eq!(
            first,
            PutOutcome {
                created: true,
                size: 12
            }
        );
        let second = store
            .put(&digest, body(&[b"hello, world"]), 100)
            .await
            .unwrap();
        assert!(!second.created);
        assert_eq!(store.size(&digest).await.unwrap(), Some(12));
        let (file, size) = store.open_blob(&digest).await.unwrap().unwrap();
        assert_eq!(size, 12);
        let read: Vec<u8> = read_chunks(file)
            .map(|chunk| chunk.unwrap().to_vec())
            .collect::<Vec<_>>()
            .await
            .concat();
        assert_eq!(read, b"hello, world");
        let path = store.path_of(&digest);
        assert!(path.starts_with(dir.path().join("blobs/sha256")));
        assert_eq!(path.file_name().unwrap().len(), 62);
        assert_eq!(leftovers(&store), 0);
    }

    #[tokio::test]
    async fn refuses_wrong_digests_and_oversized_bodies_storing_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join(BLOBS_DIR_NAME)).unwrap();
        let digest = digest_of(b"expected");
        let wrong = store.put(&digest, body(&[b"something else"]), 100).await;
        assert!(matches!(wrong, Err(BlobError::DigestMismatch { .. })));
        let large = digest_of(b"0123456789");
        let too_large = store.put(&large, body(&[b"01234", b"56789"]), 9).await;
        assert!(matches!(too_large, Err(BlobError::TooLarge { limit: 9 })));
        assert!(!store.exists(&digest).await.unwrap());
        assert!(!store.exists(&large).await.unwrap());
        assert_eq!(leftovers(&store), 0);
    }

    #[tokio::test]
    async fn concurrent_uploads_of_one_digest_both_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join(BLOBS_DIR_NAME)).unwrap();
        let digest = digest_of(b"same bytes");
        let (a, b) = tokio::join!(
            store.put(&digest, body(&[b"same ", b"bytes"]), 100),
            store.put(&digest, body(&[b"same bytes"]), 100),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.created ^ b.created, "exactly one stored it: {a:?} {b:?}");
        assert_eq!(leftovers(&store), 0);
    }

    #[test]
    fn digests_must_be_lowercase_hex() {
        let good = "a".repeat(64);
        assert!(Sha256Digest::parse(&good).is_ok());
        for bad in [
            "A".repeat(64),
            "a".repeat(63),
            "../x".to_owned(),
            format!("../{}", "a".repeat(61)),
            "g".repeat(64),
            String::new(),
        ] {
            assert!(Sha256Digest::parse(&bad).is_err(), "{bad}");
        }
    }
}
