//! Moving a connection's bytes between the client and Rocket. On Linux they go socket →
//! pipe → socket with `splice(2)`, never through user space (as HAProxy does): a copying
//! relay halved the throughput of large images on a 2-core machine. Elsewhere, a copy.

use std::io;
use std::sync::{Mutex, PoisonError};

use tokio::net::TcpStream;
use tokio::time::Instant;

/// Bytes moved per `splice` call (a pipe holds 64 KiB by default).
#[cfg(target_os = "linux")]
const CHUNK: usize = 64 * 1024;

/// Pass bytes both ways until both sides have closed (or one fails), noting in `heard`
/// when the last byte went through.
pub(super) async fn both_ways(
    client: &TcpStream,
    upstream: &TcpStream,
    heard: &Mutex<Instant>,
) -> io::Result<()> {
    tokio::try_join!(
        one_way(client, upstream, heard),
        one_way(upstream, client, heard)
    )?;
    Ok(())
}

fn hear(heard: &Mutex<Instant>) {
    *heard.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
}

#[cfg(target_os = "linux")]
async fn one_way(from: &TcpStream, to: &TcpStream, heard: &Mutex<Instant>) -> io::Result<()> {
    use rustix::net::Shutdown;
    use rustix::pipe::{PipeFlags, SpliceFlags, pipe_with, splice};
    use tokio::io::Interest;

    let flags = SpliceFlags::NONBLOCK | SpliceFlags::MOVE;
    let (pipe_out, pipe_in) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
    loop {
        // The pipe is empty here: fill it from the socket.
        let filled = loop {
            from.readable().await?;
            match from.try_io(Interest::READABLE, || {
                Ok(splice(from, None, &pipe_in, None, CHUNK, flags)?)
            }) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        };
        if filled == 0 {
            // The sender is done: say so to the other side, keep the other way open.
            let _ = rustix::net::shutdown(to, Shutdown::Write);
            return Ok(());
        }
        hear(heard);
        let mut left = filled;
        while left > 0 {
            to.writable().await?;
            match to.try_io(Interest::WRITABLE, || {
                Ok(splice(&pipe_out, None, to, None, left, flags)?)
            }) {
                Ok(n) => {
                    left -= n;
                    hear(heard);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
async fn one_way(from: &TcpStream, to: &TcpStream, heard: &Mutex<Instant>) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        from.readable().await?;
        let n = match from.try_read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        hear(heard);
        let mut sent = 0;
        while sent < n {
            to.writable().await?;
            match to.try_write(&buf[sent..n]) {
                Ok(m) => sent += m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}
