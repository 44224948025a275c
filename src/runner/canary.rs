//! A scenario's canary listener: a loopback port that must hear nothing. Any connection that
//! sends a byte counts (an HTTP request, or a TLS hello to `https://{canary}/`), and gets an
//! empty 200. A plain listener rather than a mock server: it has nothing to verify, and dropping
//! it never blocks.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long a connection may take to send its first bytes.
const READ_WAIT: Duration = Duration::from_secs(5);

/// A listener that counts what it hears; it stops when dropped.
#[derive(Debug)]
pub struct Canary {
    address: SocketAddr,
    heard: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Canary {
    /// Listens on `127.0.0.1`, any free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let heard = Arc::new(AtomicUsize::new(0));
        let count = heard.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let read = tokio::time::timeout(READ_WAIT, conn.read(&mut buf)).await;
                    if matches!(read, Ok(Ok(n)) if n > 0) {
                        count.fetch_add(1, Ordering::SeqCst);
                        let _ = conn
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .await;
                    }
                });
            }
        });
        Ok(Self {
            address,
            heard,
            task,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// How many connections sent it something.
    pub fn heard(&self) -> usize {
        self.heard.load(Ordering::SeqCst)
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_counts_what_it_hears_and_a_bare_connection_is_not_a_request() {
        let c = Canary::start().await.expect("a canary");
        assert_eq!(c.heard(), 0);
        drop(
            tokio::net::TcpStream::connect(c.address())
                .await
                .expect("connect"),
        );
        let mut s = tokio::net::TcpStream::connect(c.address())
            .await
            .expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(c.heard(), 1);
    }
}
