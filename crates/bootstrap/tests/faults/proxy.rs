//! A TCP proxy the test controls, between the server and PostgreSQL: it can
//! freeze the link (bytes held, sockets open) or cut it (every connection
//! closed, new ones dropped), and heal it again.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

const OPEN: u8 = 0;
const FROZEN: u8 = 1;
const CUT: u8 = 2;

/// The proxy; dropping it stops accepting.
pub struct LinkProxy {
    pub port: u16,
    state: Arc<AtomicU8>,
    accept: tokio::task::JoinHandle<()>,
}

impl LinkProxy {
    /// Listens on a free loopback port and forwards to `upstream` (host:port).
    pub async fn start(upstream: String) -> LinkProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(AtomicU8::new(OPEN));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if shared.load(Ordering::SeqCst) == CUT {
                    continue; // dropped at once: the database is unreachable
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, shared.clone()));
                tokio::spawn(pump(server_read, client_write, shared.clone()));
            }
        });
        LinkProxy {
            port,
            state,
            accept,
        }
    }

    /// Holds every byte in both directions; sockets stay open.
    pub fn freeze(&self) {
        self.state.store(FROZEN, Ordering::SeqCst);
    }

    /// Closes every connection and drops new ones.
    pub fn cut(&self) {
        self.state.store(CUT, Ordering::SeqCst);
    }

    /// Forwards again (held bytes flow on; cut connections stay closed).
    pub fn heal(&self) {
        self.state.store(OPEN, Ordering::SeqCst);
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, state: Arc<AtomicU8>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if state.load(Ordering::SeqCst) == CUT {
            return;
        }
        let n = match tokio::time::timeout(Duration::from_millis(50), from.read(&mut buf)).await {
            Err(_) => continue,
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => n,
        };
        while state.load(Ordering::SeqCst) == FROZEN {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if state.load(Ordering::SeqCst) == CUT || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
