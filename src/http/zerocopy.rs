//! Zero-copy bodies: large cached bodies are sent with `sendfile`, the way
//! a static file server sends a file, instead of being copied into the
//! socket by `write`.
//!
//! Copying a 140 KB feed into the socket was half the kernel's time of a
//! cached 200 (measured: 27 µs of kernel CPU per response against nginx's
//! 13 µs with `sendfile` on the same bytes). So a body worth it is written
//! once into a sealed in-memory file (`memfd`) and mapped; the mapping is
//! what the `Bytes` of the cache entry points at, so every layer above
//! (hyper, compression, tests) sees ordinary bytes. Below hyper,
//! [`ZeroCopy`] wraps the socket: a buffer hyper asks it to write that
//! lies inside such a mapping goes out with `sendfile` from the file at the
//! same offset (the file is sealed, so its pages are those bytes); any
//! other buffer is written as before. The lookup is only a shortcut: a
//! buffer it does not find is copied, never lost.

use std::collections::BTreeMap;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Bodies below this are copied: for them a copy costs less than a file.
const MIN_BYTES: usize = 32 * 1024;
/// Most mapped bodies at once: each holds a file descriptor, and
/// connections need theirs (`serve` raises the soft limit to the hard one,
/// but a hard limit of 1,024 is common). Past it, bodies stay on the heap.
const MAX_REGIONS: usize = 128;

/// A mapped body, by the address of its first byte.
struct Region {
    len: usize,
    file: Arc<std::fs::File>,
}

static REGIONS: RwLock<BTreeMap<usize, Region>> = RwLock::new(BTreeMap::new());
static LIVE: AtomicUsize = AtomicUsize::new(0);

fn regions_read() -> std::sync::RwLockReadGuard<'static, BTreeMap<usize, Region>> {
    REGIONS.read().unwrap_or_else(|p| p.into_inner())
}

fn regions_write() -> std::sync::RwLockWriteGuard<'static, BTreeMap<usize, Region>> {
    REGIONS.write().unwrap_or_else(|p| p.into_inner())
}

/// The owner of a mapped body: leaves the registry before it unmaps.
struct Mapped {
    map: memmap2::Mmap,
    file: Arc<std::fs::File>,
}

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        let start = self.map.as_ptr() as usize;
        let mut regions = regions_write();
        if regions
            .get(&start)
            .is_some_and(|r| Arc::ptr_eq(&r.file, &self.file))
        {
            regions.remove(&start);
        }
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `body` as bytes that [`ZeroCopy`] can send without copying, when it is
/// large enough to be worth a file and one is available; else as it is.
pub fn share(body: Vec<u8>) -> Bytes {
    if body.len() < MIN_BYTES || LIVE.load(Ordering::Relaxed) >= MAX_REGIONS {
        return Bytes::from(body);
    }
    match map(&body) {
        Ok(mapped) => Bytes::from_owner(mapped),
        Err(e) => {
            tracing::debug!(error = %e, "body kept on the heap: cannot map it");
            Bytes::from(body)
        }
    }
}

fn map(body: &[u8]) -> io::Result<Mapped> {
    use rustix::fs::{MemfdFlags, SealFlags};
    use std::io::Write;
    let fd = rustix::fs::memfd_create(
        "topicfeed-body",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(body)?;
    // Sealed, the file can never change or shrink under the mapping or
    // under a `sendfile` in flight: that is what makes the mapping sound.
    rustix::fs::fcntl_add_seals(
        &file,
        SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL,
    )?;
    // SAFETY: the file is ours alone and sealed against every change, so
    // the mapped bytes cannot be modified for as long as they are mapped.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    let file = Arc::new(file);
    LIVE.fetch_add(1, Ordering::Relaxed);
    regions_write().insert(
        map.as_ptr() as usize,
        Region {
            len: map.len(),
            file: file.clone(),
        },
    );
    Ok(Mapped { map, file })
}

/// The file and offset holding `buf`, if it lies in a mapped body.
fn lookup(buf: &[u8]) -> Option<(Arc<std::fs::File>, u64)> {
    if buf.len() < 4096 {
        return None;
    }
    let at = buf.as_ptr() as usize;
    let regions = regions_read();
    let (&start, region) = regions.range(..=at).next_back()?;
    let offset = at - start;
    (offset + buf.len() <= region.len).then(|| (region.file.clone(), offset as u64))
}

/// A TCP stream that sends mapped bodies with `sendfile`.
pub struct ZeroCopy {
    inner: TcpStream,
}

impl ZeroCopy {
    pub fn new(inner: TcpStream) -> ZeroCopy {
        ZeroCopy { inner }
    }

    /// Runs the non-blocking write `op` when the socket is writable,
    /// waiting (registering the waker) while it would block.
    fn poll_write_op(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.inner.poll_write_ready(cx))?;
            match self.inner.try_io(Interest::WRITABLE, || op(&self.inner)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                done => return Poll::Ready(done),
            }
        }
    }
}

/// Sends `len` bytes of `file` from `offset`.
fn send_file(sock: &TcpStream, file: &std::fs::File, offset: u64, len: usize) -> io::Result<usize> {
    let mut offset = offset;
    Ok(rustix::fs::sendfile(sock, file, Some(&mut offset), len)?)
}

/// Writes `bufs` with "more is coming": the kernel holds a partial segment
/// for the file that follows, so headers and body share packets.
fn send_more(sock: &TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    use rustix::net::{SendAncillaryBuffer, SendFlags};
    Ok(rustix::net::sendmsg(
        sock,
        bufs,
        &mut SendAncillaryBuffer::default(),
        SendFlags::MORE | SendFlags::NOSIGNAL,
    )?)
}

impl AsyncRead for ZeroCopy {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ZeroCopy {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mapped = bufs
            .iter()
            .enumerate()
            .find_map(|(i, b)| lookup(b).map(|(file, offset)| (i, file, offset)));
        let Some((i, file, offset)) = mapped else {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        };
        let len = bufs[i].len();
        if i == 0 {
            return self.poll_write_op(cx, |sock| send_file(sock, &file, offset, len));
        }
        // What comes before the body (headers), then as much of the body as
        // the socket takes without waiting.
        let head: usize = bufs[..i].iter().map(|b| b.len()).sum();
        let sent = ready!(self.poll_write_op(cx, |sock| send_more(sock, &bufs[..i])))?;
        if sent < head {
            return Poll::Ready(Ok(sent));
        }
        match send_file(&self.inner, &file, offset, len) {
            Ok(n) => Poll::Ready(Ok(head + n)),
            // The body goes on the next call, when the socket has room.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Ready(Ok(head)),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn body(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn small_bodies_stay_on_the_heap_large_ones_are_mapped() {
        let small = share(body(100));
        assert!(lookup(&small).is_none());
        let large = share(body(200_000));
        let (_, offset) = lookup(&large[8192..]).expect("a large body is mapped");
        assert_eq!(offset, 8192);
        assert_eq!(
            &large[..],
            &body(200_000)[..],
            "the mapping holds the bytes"
        );
    }

    #[test]
    fn a_dropped_body_leaves_the_registry() {
        let large = share(body(100_000));
        assert!(lookup(&large).is_some(), "mapped");
        let at = large.as_ptr() as usize;
        drop(large);
        assert!(!regions_read().contains_key(&at));
    }

    /// Headers, a mapped body (sent from its file) and a heap trailer
    /// arrive whole and in order, through partial writes to a slow reader.
    #[tokio::test]
    async fn mapped_bodies_arrive_byte_for_byte() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let large = share(body(3_000_000));
        assert!(lookup(&large).is_some(), "mapped, so sent from its file");
        let expected: Vec<u8> = [&b"HTTP/1.1 200 OK\r\n\r\n"[..], &large, b"tail"].concat();
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut w = ZeroCopy::new(TcpStream::connect(addr).await.unwrap());
        let head = b"HTTP/1.1 200 OK\r\n\r\n";
        let (mut a, mut b, mut c) = (&head[..], &large[..], &b"tail"[..]);
        while !(a.is_empty() && b.is_empty() && c.is_empty()) {
            let bufs = [IoSlice::new(a), IoSlice::new(b), IoSlice::new(c)];
            let mut n = w.write_vectored(&bufs).await.unwrap();
            for part in [&mut a, &mut b, &mut c] {
                let k = n.min(part.len());
                *part = &part[k..];
                n -= k;
            }
        }
        w.shutdown().await.unwrap();
        let got = reader.await.unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "bytes differ");
    }
}
