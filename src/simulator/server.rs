//! The simulator's own HTTP/1.1 server (hyper), in place of wiremock's. Wiremock keeps every
//! request a mounted mock matched for as long as the server lives, so a long-running `mock`
//! grew without bound; this server keeps nothing of a request once it is answered. It also
//! bounds what one client can hold, for `mock` run as a service:
//!
//! - at most [`Limits::per_client`] open connections per client address (default 256); a
//!   connection past it is answered `503` with `Connection: close` and closed at once;
//! - a request's headers must arrive within [`Limits::header_timeout`] (default 30 s, counted
//!   from the end of the previous request on a kept-alive connection, so it also closes idle
//!   connections), or the connection is closed (slow-loris);
//! - its body must arrive within [`Limits::body_timeout`] (default 10 s) after the headers, or it
//!   is answered `408` and the connection closed;
//! - a body larger than [`Limits::max_body`] (default 1 MiB) is answered `413`;
//! - a response must be taken by the client: a write that makes no progress for
//!   [`Limits::write_timeout`] (default 30 s: a client that sends requests and never reads the
//!   answers, until the socket's buffers are full) closes the connection.
//!
//! Requests reach the simulator as `wiremock::Request`s, as before, so the handlers and the
//! in-process `Simulator::handle` used by the fuzzers are unchanged.

use super::reply::Reply;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// What one client may hold, and how long the server waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections per client IP address.
    pub per_client: usize,
    /// Time for a request's headers to arrive (an idle kept-alive connection waits as long).
    pub header_timeout: Duration,
    /// Time for a request's body to arrive, after its headers.
    pub body_timeout: Duration,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Time a write of a response may wait for the client to read.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_client: 256,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// The function that answers a request.
pub type Handler = Arc<dyn Fn(&wiremock::Request) -> Reply + Send + Sync>;

/// A running server. Dropping it stops accepting and closes every connection.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    stats: Arc<Stats>,
}

/// Counters, for `/__admin/stats` and the tests.
#[derive(Debug, Default)]
pub struct Stats {
    open: Mutex<HashMap<IpAddr, usize>>,
    refused: std::sync::atomic::AtomicU64,
}

impl Stats {
    /// Connections open now, over all clients.
    pub fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }
    /// Connections refused so far because their client held too many.
    pub fn refused(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Counts a new connection from `ip`, unless it already holds `limit`.
    fn admit(&self, ip: IpAddr, limit: usize) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= limit {
            self.refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return false;
        }
        *n += 1;
        true
    }
    fn release(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&ip);
            }
        }
    }
}

/// Gives a connection back when it ends, however it ends.
struct Admitted(Arc<Stats>, IpAddr);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}

const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 51\r\n\r\ntoo many open connections from this client address\n";

impl Server {
    /// Serves `handler` on `listener` (already bound) with `limits`.
    pub fn start(
        listener: std::net::TcpListener,
        limits: Limits,
        handler: Handler,
        stats: Arc<Stats>,
    ) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(accept_loop(
            listener,
            limits,
            handler,
            stopped,
            stats.clone(),
        ));
        Ok(Self { addr, stop, stats })
    }

    /// `http://IP:PORT`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    limits: Limits,
    handler: Handler,
    mut stopped: watch::Receiver<bool>,
    stats: Arc<Stats>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        if !stats.admit(peer.ip(), limits.per_client) {
            tokio::spawn(async move {
                let mut stream = stream;
                // Said, then the client's bytes read and dropped for at most a second, so that
                // the close does not reset the connection before the client reads the 503.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    stream.write_all(REFUSED).await?;
                    stream.shutdown().await?;
                    let mut sink = [0u8; 4096];
                    while stream.read(&mut sink).await? > 0 {}
                    Ok::<_, std::io::Error>(())
                })
                .await;
            });
            continue;
        }
        let admitted = Admitted(stats.clone(), peer.ip());
        let (handler, mut stopped) = (handler.clone(), stopped.clone());
        tokio::spawn(async move {
            let _admitted = admitted;
            let _ = stream.set_nodelay(true);
            let io = hyper_util::rt::TokioIo::new(WriteDeadline::new(stream, limits.write_timeout));
            let service = hyper::service::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, std::convert::Infallible>(serve(req, &handler, limits).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(io, service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped.changed() => {}
            }
        });
    }
}

/// A connection whose writes fail once one has waited `limit` without progress: hyper's own
/// timeouts cover reading only, so without it a client that never reads holds its connection
/// (and a task) for ever.
struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            stalled: None,
        }
    }

    /// After a write that made no progress: pending until the limit, then an error.
    fn stall<T>(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<T>> {
        use std::future::Future;
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => std::task::Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client did not read its response in time",
            ))),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }

    /// After a write that did something: the next stall starts a new wait.
    fn progressed<T>(&mut self, r: std::task::Poll<T>) -> std::task::Poll<T> {
        if r.is_ready() {
            self.stalled = None;
        }
        r
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match std::pin::Pin::new(&mut self.inner).poll_write(cx, buf) {
            std::task::Poll::Pending => self.stall(cx),
            done => self.progressed(done),
        }
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            std::task::Poll::Pending => self.stall(cx),
            done => self.progressed(done),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match std::pin::Pin::new(&mut self.inner).poll_flush(cx) {
            std::task::Poll::Pending => self.stall(cx),
            done => self.progressed(done),
        }
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match std::pin::Pin::new(&mut self.inner).poll_shutdown(cx) {
            std::task::Poll::Pending => self.stall(cx),
            done => self.progressed(done),
        }
    }
}

/// One request: its body read within the limits, then answered.
async fn serve(
    req: hyper::Request<Incoming>,
    handler: &Handler,
    limits: Limits,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // A declared length past the limit is refused before any of it is read.
    if hyper::body::Body::size_hint(&body).lower() > limits.max_body as u64 {
        return plain(
            413,
            "the request body is larger than the simulator accepts\n",
        );
    }
    let body = match tokio::time::timeout(
        limits.body_timeout,
        Limited::new(body, limits.max_body).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return plain(
                413,
                "the request body is larger than the simulator accepts\n",
            );
        }
        Ok(Err(_)) => return plain(400, "the request body could not be read\n"),
        Err(_) => return plain(408, "the request body did not arrive in time\n"),
    };
    // As wiremock built it: an origin-form target is read against http://localhost.
    let url = match parts.uri.authority() {
        Some(_) => parts.uri.to_string(),
        None => format!("http://localhost{}", parts.uri),
    };
    let Ok(url) = url::Url::parse(&url) else {
        return plain(400, "the request target is not a URL\n");
    };
    let request = wiremock::Request {
        url,
        method: parts.method,
        headers: parts.headers,
        body: body.to_vec(),
    };
    into_response(handler(&request))
}

fn plain(status: u16, text: &'static str) -> hyper::Response<Full<Bytes>> {
    into_response(Reply {
        status,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: text.as_bytes().to_vec(),
    })
}

/// The reply as hyper's response: headers in order, a body's type `application/octet-stream`
/// unless the reply names one (as wiremock's `set_body_raw` did).
fn into_response(reply: Reply) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder().status(reply.status);
    let mut typed = false;
    for (k, v) in &reply.headers {
        typed |= k.eq_ignore_ascii_case("content-type");
        b = b.header(k.as_str(), v.as_str());
    }
    if !typed && !reply.body.is_empty() {
        b = b.header("content-type", "application/octet-stream");
    }
    b.body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| {
            let mut r = hyper::Response::new(Full::new(Bytes::from_static(
                b"the simulator built a response hyper refused\n",
            )));
            *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}
