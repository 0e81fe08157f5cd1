//! The HTTP/1.1 server in place of `axum::serve`: connection cap, header-read and keep-alive
//! timeouts, graceful shutdown, and problem+json for the answers hyper writes by itself.

use std::convert::Infallible;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::Request;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::api::error::{ApiError, PROBLEM_JSON};
use crate::config::{MAX_URI_BYTES_CEILING, ServerConfig};
use crate::metrics;

/// Most header fields hyper reads in a request (its default); more is its own 431.
const MAX_HEADERS: usize = 100;
/// hyper's default read buffer limit (8 KiB plus 100 × 4 KiB); a head that fills it
/// unfinished is its own 431.
const DEFAULT_MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;
/// Room in the read buffer for what the size limits do not count: the method, version,
/// `: ` and line ends of every header.
const HEAD_FRAMING_BYTES: usize = 8192;

/// The connection limits of `[server]`, and what the server answers when hyper refuses a
/// request head.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    header_read_timeout: Duration,
    keep_alive_timeout: Duration,
    max_connections: usize,
    max_uri_bytes: usize,
    max_head_bytes: usize,
}

impl ConnectionLimits {
    /// The limits of `server`. hyper's read buffer holds at least a head within both size
    /// limits, so the gateway's own 414 and 431 answer such requests, naming the limit.
    pub fn new(server: &ServerConfig) -> Self {
        Self {
            header_read_timeout: server.header_read_timeout,
            keep_alive_timeout: server.keep_alive_timeout,
            max_connections: server.max_connections,
            max_uri_bytes: server.max_uri_bytes.min(MAX_URI_BYTES_CEILING),
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES.max(
                server
                    .max_uri_bytes
                    .saturating_add(server.max_header_bytes)
                    .saturating_add(HEAD_FRAMING_BYTES),
            ),
        }
    }

    /// The problem hyper's own refusal stands for.
    fn problem_for(&self, refusal: Refusal) -> ApiError {
        match refusal {
            Refusal::Malformed => ApiError::MalformedRequest,
            Refusal::UriTooLong => ApiError::UriTooLong(self.max_uri_bytes),
            Refusal::HeadTooLarge => ApiError::RequestHeadTooLarge {
                max_headers: MAX_HEADERS,
                max_head_bytes: self.max_head_bytes,
            },
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets
/// every connection finish its request in flight and waits for them to close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    warn_above_open_file_limit(limits.max_connections);
    let limits = Arc::new(limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    // hyper's timer restarts whenever a connection goes idle, which would make it the
    // keep-alive timeout too; `expiry` keeps the two apart.
    http.header_read_timeout(None)
        .max_buf_size(limits.max_head_bytes)
        // A client that closes its side has left: its request is dropped at once, so no
        // vendor call starts for it.
        .half_close(false);
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer, permit) = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &permits) => accepted,
        };
        let connection = Connection {
            router: router.clone(),
            limits: limits.clone(),
            http: http.clone(),
            peer,
            _permit: permit,
        };
        tokio::spawn(connection.run(stream, graceful.watcher()));
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Descriptors kept for what is not a client connection: vendor and Redis connections,
/// the listener, logs.
const OTHER_FILES: u64 = 256;

/// Warns when `max_connections` cannot be reached because the process may not open that
/// many files: the cap would then not keep the gateway from running out of them.
fn warn_above_open_file_limit(max_connections: usize) {
    let Some(limit) = open_file_limit() else {
        return;
    };
    let wanted = max_connections as u64 + OTHER_FILES;
    if wanted > limit {
        tracing::warn!(
            max_connections,
            open_file_limit = limit,
            "server.max_connections plus {OTHER_FILES} other files is above the open-file limit: \
             raise the limit (ulimit -n, LimitNOFILE=) or lower server.max_connections."
        );
    }
}

/// The soft limit on open files of this process, where the system tells (Linux).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&limits)
}

/// The soft `Max open files` of a `/proc/<pid>/limits` text; `None` when unlimited.
fn parse_open_file_limit(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// The next connection, once fewer than `max_connections` are open. Until then nothing is
/// accepted: new connections wait in the listen backlog, not in file descriptors.
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    let Ok(permit) = permits.clone().acquire_owned().await else {
        // The semaphore is never closed.
        return std::future::pending().await;
    };
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => return (stream, peer, permit),
            // The client gave up before we got to it; nothing to do.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                ) => {}
            Err(err) => {
                // Out of file descriptors, most likely: give closing ones time to go.
                tracing::error!(error = %err, "Cannot accept a connection; retrying in a second.");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// What one accepted connection needs, and its place under `max_connections`.
struct Connection {
    router: Router,
    limits: Arc<ConnectionLimits>,
    http: http1::Builder,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    /// Serves the connection until it closes, a timeout closes it, or shutdown ends it.
    async fn run(self, stream: TcpStream, shutdown: Watcher) {
        let Self {
            router,
            limits,
            http,
            peer,
            _permit,
        } = self;
        let _open = metrics::ConnectionOpen::enter();
        let activity = Arc::new(Activity::new(Instant::now()));
        let io = TokioIo::new(WatchedStream {
            inner: stream,
            activity: activity.clone(),
            limits: limits.clone(),
            answer: None,
        });
        let requests = activity.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            // Read by auth to name a consumer by its address when auth is off.
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = RequestInFlight::start(requests.clone());
            let router = router.clone();
            async move {
                let Ok(response) = router.oneshot(request).await;
                Ok::<_, Infallible>(response.map(|body| TrackedBody {
                    body,
                    _in_flight: in_flight,
                }))
            }
        });
        let served = shutdown.watch(http.serve_connection(io, service));
        tokio::select! {
            result = served => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, %peer, "Connection ended with an error.");
                }
            }
            expired = expiry(&activity, &limits) => {
                metrics::connection_timed_out(expired.reason());
                tracing::debug!(reason = expired.reason(), %peer, "Closed a connection.");
            }
        }
    }
}

/// Where a connection is between requests, for its timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a request head since `since`: accept, or the first byte after an idle spell.
    Head { since: Instant },
    /// Idle since `since`, after a response.
    Idle { since: Instant },
    /// Serving `requests` (until each response body is handed to hyper whole).
    Busy { requests: usize },
}

/// Which timeout closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    HeaderRead,
    KeepAlive,
}

impl Expired {
    fn reason(self) -> &'static str {
        match self {
            Self::HeaderRead => "header_read_timeout",
            Self::KeepAlive => "keep_alive_timeout",
        }
    }
}

/// One connection's phase, shared by its stream, its requests and its timeout watch.
#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Activity {
    fn new(now: Instant) -> Self {
        Self {
            phase: Mutex::new(Phase::Head { since: now }),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        let next = change(*phase);
        if next != *phase {
            *phase = next;
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: after an idle spell, they begin a request head.
    fn read(&self, now: Instant) {
        self.update(|phase| match phase {
            Phase::Idle { .. } => Phase::Head { since: now },
            other => other,
        });
    }

    fn request_started(&self) {
        self.update(|phase| match phase {
            Phase::Busy { requests } => Phase::Busy {
                requests: requests + 1,
            },
            _ => Phase::Busy { requests: 1 },
        });
    }

    fn request_finished(&self, now: Instant) {
        self.update(|phase| match phase {
            Phase::Busy { requests } if requests > 1 => Phase::Busy {
                requests: requests - 1,
            },
            _ => Phase::Idle { since: now },
        });
    }

    /// When the connection is to be closed, and by which timeout; `None` while busy.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Expired)> {
        match self.phase() {
            Phase::Head { since } => {
                Some((since + limits.header_read_timeout, Expired::HeaderRead))
            }
            Phase::Idle { since } => Some((since + limits.keep_alive_timeout, Expired::KeepAlive)),
            Phase::Busy { .. } => None,
        }
    }
}

/// Completes when a timeout of the connection runs out. As in nginx, waiting for the next
/// request is keep-alive time, and the head timer starts with that request's first byte (on
/// a new connection, at accept). A request in flight has its own budget
/// (`server.request_timeout_ms`) and is never cut here.
async fn expiry(activity: &Activity, limits: &ConnectionLimits) -> Expired {
    loop {
        let changed = activity.changed.notified();
        match activity.deadline(limits) {
            None => changed.await,
            Some((deadline, expired)) => {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {
                        if activity.deadline(limits) == Some((deadline, expired)) {
                            return expired;
                        }
                    }
                    () = changed => {}
                }
            }
        }
    }
}

/// Marks a request in flight on its connection until dropped.
struct RequestInFlight(Arc<Activity>);

impl RequestInFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.request_started();
        Self(activity)
    }
}

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        self.0.request_finished(Instant::now());
    }
}

/// A response body that keeps its request in flight until hyper is done with it.
struct TrackedBody {
    body: Body,
    _in_flight: RequestInFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A refusal hyper writes by itself, with an empty body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Malformed,
    UriTooLong,
    HeadTooLarge,
}

impl Refusal {
    /// The refusal `written` is, when it is exactly one of hyper's: its status line, then
    /// only `connection: close`, `content-length: 0` and `date`. Our own 400, 414 and 431
    /// always carry a problem body, and response bodies never hold such a head.
    fn of(written: &[u8]) -> Option<Self> {
        const MOST: usize = 256;
        if written.len() > MOST || !written.ends_with(b"\r\n\r\n") {
            return None;
        }
        let text = std::str::from_utf8(written).ok()?;
        let mut lines = text[..text.len() - 4].split("\r\n");
        let refusal = match lines.next()? {
            "HTTP/1.1 400 Bad Request" => Self::Malformed,
            "HTTP/1.1 414 URI Too Long" => Self::UriTooLong,
            "HTTP/1.1 431 Request Header Fields Too Large" => Self::HeadTooLarge,
            _ => return None,
        };
        let mut empty = false;
        for line in lines {
            match line {
                "connection: close" => {}
                "content-length: 0" => empty = true,
                date if date.starts_with("date: ") => {}
                _ => return None,
            }
        }
        empty.then_some(refusal)
    }

    fn metric_reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UriTooLong => "uri_too_long",
            Self::HeadTooLarge => "headers_too_large",
        }
    }
}

/// The whole HTTP/1.1 answer for `problem`; the connection closes after it.
fn render(problem: ApiError) -> Vec<u8> {
    let status = problem.status();
    let body = serde_json::to_vec(&problem.into_problem()).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: {}\r\ndate: {}\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
        uuid::Uuid::new_v4(),
        chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT"),
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Our answer, sent in place of hyper's `replaces` bytes.
struct Answer {
    bytes: Vec<u8>,
    written: usize,
    replaces: usize,
}

/// The client's socket, as hyper sees it: reads mark activity, and hyper's own refusals
/// are swapped for problem+json on the way out. They are swapped there because hyper
/// writes them before any service runs and has no hook to change them
/// (hyperium/hyper#3844), and its 414 above 65534 bytes is fixed, so raising its limits
/// cannot avoid them.
struct WatchedStream<S> {
    inner: S,
    activity: Arc<Activity>,
    limits: Arc<ConnectionLimits>,
    answer: Option<Answer>,
}

impl<S: AsyncRead + Unpin> AsyncRead for WatchedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.activity.read(Instant::now());
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> WatchedStream<S> {
    /// The refusal of hyper's that `buf` is, if any. hyper refuses only heads it never
    /// handed to the router, so never while a request is in flight.
    fn refusal(&self, buf: &[u8]) -> Option<Refusal> {
        let refusal = Refusal::of(buf)?;
        (!matches!(self.activity.phase(), Phase::Busy { .. })).then_some(refusal)
    }

    /// Starts our answer to `refusal` in place of hyper's `replaces` bytes.
    fn start_answer(&mut self, refusal: Refusal, replaces: usize) {
        metrics::http_refused(refusal.metric_reason());
        tracing::debug!(
            reason = refusal.metric_reason(),
            "Refused a request head before routing."
        );
        self.answer = Some(Answer {
            bytes: render(self.limits.problem_for(refusal)),
            written: 0,
            replaces,
        });
    }

    /// Writes the answer started. hyper offers its own bytes again until they are reported
    /// written, so they are reported only once ours are all out.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some(answer) = self.answer.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while answer.written < answer.bytes.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &answer.bytes[answer.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            answer.written += n;
        }
        let replaced = answer.replaces;
        self.answer = None;
        Poll::Ready(Ok(replaced))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WatchedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.answer.is_none() {
            let Some(refusal) = self.refusal(buf) else {
                return Pin::new(&mut self.inner).poll_write(cx, buf);
            };
            self.start_answer(refusal, buf.len());
        }
        self.poll_answer(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.answer.is_none() {
            // hyper's refusal is a head alone: the only slice with bytes.
            let mut filled = bufs.iter().filter(|buf| !buf.is_empty());
            let refusal = match (filled.next(), filled.next()) {
                (Some(only), None) => self.refusal(only).map(|refusal| (refusal, only.len())),
                _ => None,
            };
            let Some((refusal, replaces)) = refusal else {
                return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
            };
            self.start_answer(refusal, replaces);
        }
        self.poll_answer(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
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

    fn limits() -> ConnectionLimits {
        ConnectionLimits::new(&ServerConfig {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(75),
            ..ServerConfig::default()
        })
    }

    /// Reads from `stream` until `body` has arrived (or the stream ends).
    async fn read_until(stream: &mut TcpStream, body: &str) -> String {
        use tokio::io::AsyncReadExt;
        let mut received = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&received).ends_with(body) {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(received).unwrap()
    }

    #[tokio::test]
    async fn shutdown_finishes_the_request_in_flight_and_closes_idle_connections() {
        use axum::routing::get;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let entered = Arc::new(Notify::new());
        let router =
            Router::new()
                .route(
                    "/slow",
                    get({
                        let entered = entered.clone();
                        || async move {
                            entered.notify_one();
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            "done"
                        }
                    }),
                )
                .route(
                    "/peer",
                    get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                        peer.ip().to_string()
                    }),
                );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, limits(), async {
            let _ = stopped.await;
        }));

        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET /peer HTTP/1.1\r\nHost: gateway\r\n\r\n")
            .await
            .unwrap();
        let answer = read_until(&mut idle, "127.0.0.1").await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
        let slow = tokio::spawn(async move {
            let response = reqwest::get(format!("http://{addr}/slow")).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });
        entered.notified().await;

        stop.send(()).unwrap();
        let patience = Duration::from_secs(10);
        let finished = tokio::time::timeout(patience, slow).await.unwrap().unwrap();
        assert_eq!(finished, (200, "done".to_owned()));
        let mut buf = [0u8; 64];
        let closed = tokio::time::timeout(patience, idle.read(&mut buf))
            .await
            .unwrap();
        assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
        tokio::time::timeout(patience, server)
            .await
            .unwrap()
            .unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    }

    #[test]
    fn the_open_file_limit_is_read_from_proc_limits() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63704                63704                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_file_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files     \n";
        assert_eq!(parse_open_file_limit(unlimited), None);
        assert_eq!(parse_open_file_limit(""), None);
    }

    #[test]
    fn hyper_refusals_are_recognised_exactly() {
        let date = "date: Wed, 02 Dec 2026 16:51:31 GMT";
        for (status, refusal) in [
            ("400 Bad Request", Refusal::Malformed),
            ("414 URI Too Long", Refusal::UriTooLong),
            ("431 Request Header Fields Too Large", Refusal::HeadTooLarge),
        ] {
            let written = format!(
                "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n{date}\r\n\r\n"
            );
            assert_eq!(Refusal::of(written.as_bytes()), Some(refusal), "{status}");
        }
        for not_one in [
            // Our own answers carry a body.
            format!(
                "HTTP/1.1 414 URI Too Long\r\ncontent-type: application/problem+json\r\ncontent-length: 99\r\n{date}\r\n\r\n"
            ),
            format!("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n{date}\r\n\r\n"),
            format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n{date}\r\n\r\n{{}}"),
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n".to_owned(),
            String::new(),
        ] {
            assert_eq!(Refusal::of(not_one.as_bytes()), None, "{not_one:?}");
        }
    }

    #[test]
    fn rendered_refusals_are_whole_problem_answers() {
        let rendered = render(limits().problem_for(Refusal::UriTooLong));
        let text = String::from_utf8(rendered).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["code"], "URI_TOO_LONG");
        assert_eq!(problem["status"], 414);
    }

    #[test]
    fn the_read_buffer_holds_any_head_within_the_size_limits() {
        let large = ConnectionLimits::new(&ServerConfig {
            max_uri_bytes: 60_000,
            max_header_bytes: 1024 * 1024,
            ..ServerConfig::default()
        });
        assert!(large.max_head_bytes > 60_000 + 1024 * 1024);
        assert_eq!(limits().max_head_bytes, DEFAULT_MAX_HEAD_BYTES);
    }

    /// A watched stream over one end of a pipe that takes 7 bytes at a time, and the other.
    fn pipe() -> (
        WatchedStream<tokio::io::DuplexStream>,
        tokio::io::DuplexStream,
    ) {
        let (ours, theirs) = tokio::io::duplex(7);
        let stream = WatchedStream {
            inner: ours,
            activity: Arc::new(Activity::new(Instant::now())),
            limits: Arc::new(limits()),
            answer: None,
        };
        (stream, theirs)
    }

    async fn written_through(
        mut stream: WatchedStream<tokio::io::DuplexStream>,
        mut theirs: tokio::io::DuplexStream,
        bytes: &[u8],
    ) -> Vec<u8> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            theirs.read_to_end(&mut received).await.unwrap();
            received
        });
        stream.write_all(bytes).await.unwrap();
        stream.shutdown().await.unwrap();
        drop(stream);
        reader.await.unwrap()
    }

    const REFUSAL: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 16:51:31 GMT\r\n\r\n";

    #[tokio::test]
    async fn a_refusal_is_replaced_whole_however_slowly_the_socket_takes_it() {
        let (stream, theirs) = pipe();
        let received = written_through(stream, theirs, REFUSAL).await;
        let text = String::from_utf8(received).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["code"], "HEADERS_TOO_LARGE");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("100 header fields")
        );
    }

    #[tokio::test]
    async fn other_writes_and_writes_during_a_request_pass_through_unchanged() {
        let (stream, theirs) = pipe();
        let ordinary = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(written_through(stream, theirs, ordinary).await, ordinary);

        let (stream, theirs) = pipe();
        stream.activity.request_started();
        assert_eq!(written_through(stream, theirs, REFUSAL).await, REFUSAL);
    }

    #[tokio::test(start_paused = true)]
    async fn the_head_timer_runs_from_accept_and_from_the_first_byte_after_idling() {
        let limits = limits();
        let start = Instant::now();
        let activity = Activity::new(start);
        assert_eq!(
            activity.deadline(&limits),
            Some((start + Duration::from_secs(10), Expired::HeaderRead))
        );

        activity.request_started();
        assert_eq!(activity.deadline(&limits), None);
        let done = start + Duration::from_secs(1);
        activity.request_finished(done);
        assert_eq!(
            activity.deadline(&limits),
            Some((done + Duration::from_secs(75), Expired::KeepAlive))
        );

        let first_byte = start + Duration::from_secs(30);
        activity.read(first_byte);
        assert_eq!(
            activity.deadline(&limits),
            Some((first_byte + Duration::from_secs(10), Expired::HeaderRead))
        );
        // More bytes of the same head do not move it.
        activity.read(first_byte + Duration::from_secs(5));
        assert_eq!(
            activity.deadline(&limits),
            Some((first_byte + Duration::from_secs(10), Expired::HeaderRead))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_waits_out_a_request_in_flight_and_then_the_keep_alive() {
        let limits = limits();
        let activity = Arc::new(Activity::new(Instant::now()));
        activity.request_started();
        let watch = tokio::spawn({
            let activity = activity.clone();
            let limits = limits.clone();
            async move {
                let expired = expiry(&activity, &limits).await;
                (expired, Instant::now())
            }
        });
        // A request far longer than any timeout is never cut.
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert!(!watch.is_finished());
        let finished = Instant::now();
        activity.request_finished(finished);
        let (expired, at) = watch.await.unwrap();
        assert_eq!(expired, Expired::KeepAlive);
        assert_eq!(at, finished + Duration::from_secs(75));
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_byte_while_idle_brings_the_deadline_forward() {
        let limits = limits();
        let activity = Arc::new(Activity::new(Instant::now()));
        activity.request_started();
        activity.request_finished(Instant::now());
        let watch = tokio::spawn({
            let activity = activity.clone();
            let limits = limits.clone();
            async move { (expiry(&activity, &limits).await, Instant::now()) }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let first_byte = Instant::now();
        activity.read(first_byte);
        let (expired, at) = watch.await.unwrap();
        assert_eq!(expired, Expired::HeaderRead);
        assert_eq!(at, first_byte + Duration::from_secs(10));
    }
}
