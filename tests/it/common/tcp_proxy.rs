//! A TCP relay in front of a real server that a test can cut, stall and restore, to see
//! what the app does while a service it depends on (the object store) is down or hangs.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

const UP: u8 = 0;
const DOWN: u8 = 1;
const STALLED: u8 = 2;

/// Relays `127.0.0.1:<port>` to an upstream address while up; while down, every
/// connection (new and already open) is closed at once; while stalled, open ones are
/// closed and new ones are accepted and never answered (a store that hangs).
pub struct TcpProxy {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    /// Connections accepted while stalled, held silent.
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl TcpProxy {
    /// A relay to `upstream` (`host:port`), up.
    pub fn start(upstream: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(AtomicU8::new(UP));
        let open = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (flag, conns, silent) = (Arc::clone(&mode), Arc::clone(&open), Arc::clone(&held));
        let upstream = upstream.to_owned();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                match flag.load(Ordering::SeqCst) {
                    DOWN => {
                        drop(client);
                        continue;
                    }
                    STALLED => {
                        silent.lock().unwrap().push(client);
                        continue;
                    }
                    _ => {}
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                {
                    let mut conns = conns.lock().unwrap();
                    conns.push(client.try_clone().unwrap());
                    conns.push(server.try_clone().unwrap());
                }
                pump(client.try_clone().unwrap(), server.try_clone().unwrap());
                pump(server, client);
            }
        });
        TcpProxy {
            addr,
            mode,
            open,
            held,
        }
    }

    /// The relay's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cut every connection and refuse new ones.
    pub fn down(&self) {
        self.mode.store(DOWN, Ordering::SeqCst);
        self.cut();
    }

    /// Cut every connection, then take new ones and never answer.
    pub fn stall(&self) {
        self.mode.store(STALLED, Ordering::SeqCst);
        self.cut();
    }

    /// How many connections were taken while stalled.
    pub fn stalled_connections(&self) -> usize {
        self.held.lock().unwrap().len()
    }

    /// Relay again (the connections held while stalled are closed).
    pub fn restore(&self) {
        self.mode.store(UP, Ordering::SeqCst);
        for conn in self.held.lock().unwrap().drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }

    fn cut(&self) {
        for conn in self.open.lock().unwrap().drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    thread::spawn(move || {
        let _: io::Result<u64> = io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}
