//! Hostile phase: slow clients, vendor peers that drip, bloat or never end, and poisoned transcripts.
//!
//! Beside four healthy sources over the simulators, the gateway gets Megaview sources whose
//! transcript file is poisoned (larger than allowed, endless, invalid, 20,000 sentences of one
//! `order`, dripped) and GPTBots sources whose peer is a raw socket that drips its head or
//! body, declares a body past `server.max_vendor_body_bytes`, or streams one without end.
//! Slow clients dribble request heads and bodies at the gateway. Checks: every `/healthz` and
//! every request to the healthy sources answered within the budget (plus slack) and never
//! failed by the gateway, no 5xx while a source answered, slow heads cut off near the header
//! timeout, RSS bounded by the bytes-in-flight limit, no panic.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

const HEADER_READ_TIMEOUT: Duration = Duration::from_millis(2000);
/// How long past the header timeout a slow client may still find its connection open.
const SLOW_CLIENT_SLACK: Duration = Duration::from_secs(8);
const SLOW_HEAD_CLIENTS: usize = 24;
const SLOW_BODY_CLIENTS: usize = 8;
const MIB: usize = 1 << 20;
const MAX_VENDOR_BODY: usize = MIB;
const MAX_TRANSCRIPT: usize = 4 * MIB;
const MAX_IN_FLIGHT: usize = 32 * MIB;
/// The most one misbehaving answer may send before the peer gives up on its own.
const ENDLESS_CAP: usize = 256 * MIB;
/// The longest a peer keeps one misbehaving answer going.
const PEER_LIFETIME: Duration = Duration::from_secs(30);
const DRIP_EVERY: Duration = Duration::from_millis(100);
const CHUNK: usize = 64 * 1024;

#[derive(Clone, Copy, Debug)]
enum Poison {
    /// `Content-Length` four times `server.max_transcript_bytes`.
    Huge,
    /// Chunked sentences without end.
    Endless,
    /// A megabyte that is not JSON.
    Invalid,
    /// 20,000 sentences sharing one `order` (quadratic message ids once took 35 s of CPU).
    OneOrder,
    /// A sentence every 100 ms.
    Drip,
}

impl Poison {
    const ALL: [Self; 5] = [
        Self::Huge,
        Self::Endless,
        Self::Invalid,
        Self::OneOrder,
        Self::Drip,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Huge => "huge",
            Self::Endless => "endless",
            Self::Invalid => "invalid",
            Self::OneOrder => "one-order",
            Self::Drip => "drip",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Peer {
    /// The status line and headers a byte at a time, never finished.
    DripHead,
    /// A whole head, then the body a byte at a time.
    DripBody,
    /// `Content-Length` eight times `server.max_vendor_body_bytes`, and that many bytes.
    Oversized,
    /// A chunked body without end.
    Endless,
    /// Neither length nor chunks: a body until the peer closes, which it never does.
    Unframed,
}

impl Peer {
    const ALL: [Self; 5] = [
        Self::DripHead,
        Self::DripBody,
        Self::Oversized,
        Self::Endless,
        Self::Unframed,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::DripHead => "drip-head",
            Self::DripBody => "drip-body",
            Self::Oversized => "oversized",
            Self::Endless => "endless",
            Self::Unframed => "unframed",
        }
    }
}

/// How many hostile answers each peer and poisoned file host began.
#[derive(Default)]
struct Served(Mutex<BTreeMap<String, u64>>);

impl Served {
    fn count(&self, what: String) {
        *self.0.lock().unwrap().entry(what).or_insert(0) += 1;
    }
}

/// What the slow clients of one kind saw.
#[derive(Default, Debug)]
struct Slow {
    connections: u64,
    /// Connections on which the gateway sent an answer.
    answered: u64,
    /// Connections the gateway closed.
    closed: u64,
    longest: Duration,
    problems: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_holds_against_hostile_clients_and_vendors() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let seconds = env_or(
        "SOAK_HOSTILE_SECONDS",
        (env_or("SOAK_SECONDS", 20) / 4).max(15),
    );
    let sandbox = Sandbox::new(SandboxConfig::default());
    let served = Arc::new(Served::default());
    let sim = serve_sandbox(&sandbox, None).await;
    let mut poisoned = Vec::new();
    for poison in Poison::ALL {
        poisoned.push((
            poison,
            serve_sandbox(&sandbox, Some((poison, served.clone()))).await,
        ));
    }
    let mut peers = Vec::new();
    for peer in Peer::ALL {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        peers.push((peer, listener.local_addr().unwrap()));
        tokio::spawn(serve_peer(listener, peer, served.clone()));
    }
    let mut gateway = Gateway::start(sim, &server_limits(), &hostile_sources(&poisoned, &peers));
    let base = gateway.url("");
    let baseline = rss_mb(gateway.child.id()).unwrap_or(0.0);

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let healthy = Arc::new(Mutex::new(Tally::default()));
    let hostile = Arc::new(Mutex::new(Tally::default()));
    let probes = Arc::new(Mutex::new(Tally::default()));
    let slow_heads = Arc::new(Mutex::new(Slow::default()));
    let slow_bodies = Arc::new(Mutex::new(Slow::default()));
    let healthy_paths = Arc::new(healthy_paths(&sandbox));
    let hostile_paths = Arc::new(hostile_paths(&sandbox, &poisoned, &peers));
    let mut tasks = Vec::new();
    for worker in 0..2 {
        for (paths, tally, pause) in [
            (&healthy_paths, &healthy, Duration::ZERO),
            // Paced, so the peers' bytes do not take the shared cores from everything else.
            (&hostile_paths, &hostile, Duration::from_millis(50)),
        ] {
            let (paths, tally, base) = (paths.clone(), tally.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                let http = client();
                let mut i = worker * 7;
                while Instant::now() < deadline {
                    let path = &paths[i % paths.len()];
                    i += 1;
                    let (elapsed, result) = get(&http, &base, path).await;
                    tally.lock().unwrap().add(path, elapsed, result);
                    tokio::time::sleep(pause).await;
                }
            }));
        }
    }
    {
        let (tally, base) = (probes.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            // A new connection each time: it must be accepted beside the slow clients' ones.
            let http = reqwest::Client::builder()
                .timeout(BUDGET + SLACK * 4)
                .pool_max_idle_per_host(0)
                .build()
                .unwrap();
            while Instant::now() < deadline {
                let (elapsed, result) = get(&http, &base, "/healthz").await;
                tally.lock().unwrap().add("/healthz", elapsed, result);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    for client in 0..SLOW_HEAD_CLIENTS + SLOW_BODY_CLIENTS {
        let body = client >= SLOW_HEAD_CLIENTS;
        let slow = if body { &slow_bodies } else { &slow_heads }.clone();
        tasks.push(tokio::spawn(slow_client(
            gateway.addr,
            body,
            deadline,
            slow,
        )));
    }
    let mut rss = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss.extend(rss_mb(gateway.child.id()));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let still_running = gateway.child.try_wait().unwrap().is_none();
    let log = gateway.stop();
    let peak = rss.iter().copied().fold(baseline, f64::max);
    let bound = baseline + 2.0 * (MAX_IN_FLIGHT / MIB) as f64 + 48.0;
    let (healthy, hostile, probes) = (
        healthy.lock().unwrap(),
        hostile.lock().unwrap(),
        probes.lock().unwrap(),
    );
    let (heads, bodies) = (slow_heads.lock().unwrap(), slow_bodies.lock().unwrap());
    let served = served.0.lock().unwrap();
    eprintln!(
        "hostile: {seconds} s: healthy sources {} requests, statuses {:?}, slowest {} ms; \
         /healthz {} requests, statuses {:?}, slowest {} ms (budget {} ms); hostile sources \
         {} requests, statuses {:?}, codes {:?}, slowest {} ms; slow heads {} connections, {} closed by \
         the gateway (the rest open when the phase ended), longest held {} ms (header timeout \
         {} ms); slow bodies {} connections, \
         {} answered, {} closed, longest held {} ms; hostile answers begun {:?}; RSS MB \
         {baseline:.1} at start, peak {peak:.1} (bound {bound:.1})",
        healthy.requests,
        healthy.statuses,
        healthy.slowest.as_millis(),
        probes.requests,
        probes.statuses,
        probes.slowest.as_millis(),
        BUDGET.as_millis(),
        hostile.requests,
        hostile.statuses,
        hostile.codes,
        hostile.slowest.as_millis(),
        heads.connections,
        heads.closed,
        heads.longest.as_millis(),
        HEADER_READ_TIMEOUT.as_millis(),
        bodies.connections,
        bodies.answered,
        bodies.closed,
        bodies.longest.as_millis(),
        *served,
    );
    assert!(still_running, "the gateway exited; its log:\n{log}");
    assert!(!log.contains("panicked"), "the gateway panicked:\n{log}");
    for (what, tally) in [
        ("healthy sources", &*healthy),
        ("/healthz", &*probes),
        ("hostile sources", &*hostile),
    ] {
        assert!(tally.problems.is_empty(), "{what}: {:#?}", tally.problems);
        assert!(tally.requests > 0, "{what}: no request made");
    }
    let failed = gateway_failures(&healthy.failures);
    assert!(failed.is_empty(), "healthy sources failed: {failed:#?}");
    assert_eq!(
        probes.statuses.keys().collect::<Vec<_>>(),
        [&200],
        "/healthz did not always answer 200"
    );
    assert!(
        healthy.statuses.contains_key(&200),
        "no healthy request succeeded"
    );
    for (what, slow) in [("head", &*heads), ("body", &*bodies)] {
        assert!(slow.problems.is_empty(), "{:#?}", slow.problems);
        assert!(slow.closed > 0, "no slow {what} was disconnected");
    }
    assert!(peak <= bound, "RSS peaked at {peak:.1} MB: {rss:?}");
    for code in ["UPSTREAM_RESPONSE_TOO_LARGE", "UPSTREAM_FILE_UNAVAILABLE"] {
        assert!(hostile.codes.contains_key(code), "no answer was {code}");
    }
    for name in Poison::ALL
        .map(|p| format!("transcript {}", p.name()))
        .into_iter()
        .chain(Peer::ALL.map(|p| format!("peer {}", p.name())))
    {
        assert!(served.contains_key(&name), "nothing reached {name}");
    }
}

/// Limits small enough for the phase to reach them many times.
fn server_limits() -> String {
    format!(
        "max_vendor_body_bytes = {MAX_VENDOR_BODY}\nmax_transcript_bytes = {MAX_TRANSCRIPT}\n\
         max_vendor_bytes_in_flight = {MAX_IN_FLIGHT}\nheader_read_timeout_ms = {}\n",
        HEADER_READ_TIMEOUT.as_millis()
    )
}

fn hostile_sources(poisoned: &[(Poison, SocketAddr)], peers: &[(Peer, SocketAddr)]) -> String {
    let c = SandboxCredentials::default();
    let common = common_toml();
    let mut toml = String::new();
    for (poison, addr) in poisoned {
        toml.push_str(&format!(
            "\n[[sources]]\nname = \"poison-{}\"\nvendor = \"megaview\"\n\
             base_url = \"http://{addr}/megaview\"\napp_key = \"{}\"\napp_secret = \"{}\"\n\
             transcript_hosts = [\"{addr}\"]\n{common}\n",
            poison.name(),
            c.megaview_app_key,
            c.megaview_app_secret,
        ));
    }
    for (peer, addr) in peers {
        toml.push_str(&format!(
            "\n[[sources]]\nname = \"peer-{}\"\nvendor = \"gptbots\"\n\
             base_url = \"http://{addr}\"\napi_key = \"{}\"\n{common}\n",
            peer.name(),
            c.gptbots_api_key,
        ));
    }
    toml
}

/// Only the four sources over the healthy simulators, each on its own or together.
fn healthy_paths(sandbox: &Sandbox) -> Vec<String> {
    let healthy = ["sales:", "assistant:", "helpdesk:", "inbox:"];
    let mut paths: Vec<String> = request_mix(sandbox)
        .into_iter()
        .filter(|path| {
            healthy
                .iter()
                .any(|source| path.starts_with(&format!("/conversations/{source}")))
                || path.contains("source=")
                || !path.starts_with("/conversations")
        })
        .collect();
    paths.push("/conversations?source=sales,assistant,helpdesk,inbox".to_owned());
    paths
}

/// Every hostile source alone, and fan-outs over hostile and healthy sources together.
fn hostile_paths(
    sandbox: &Sandbox,
    poisoned: &[(Poison, SocketAddr)],
    peers: &[(Peer, SocketAddr)],
) -> Vec<String> {
    let mut paths = vec![
        "/conversations".to_owned(),
        "/conversations?vendor=gptbots".to_owned(),
    ];
    let megaview = sandbox.records(SimVendor::Megaview);
    for (i, (poison, _)) in poisoned.iter().enumerate() {
        let record = &megaview[i % megaview.len()];
        paths.push(format!(
            "/conversations/poison-{}:{}/messages",
            poison.name(),
            record.native_id
        ));
    }
    for (peer, _) in peers {
        paths.push(format!("/conversations?source=peer-{}", peer.name()));
        paths.push(format!("/conversations/peer-{}:c1/messages", peer.name()));
    }
    paths
}

/// Failures the gateway, not a vendor, is to blame for.
fn gateway_failures(failures: &[(String, u16, String)]) -> Vec<String> {
    // A transcript still being made, and a wait for our own quota, are the vendor's and the
    // operator's answers, not the hostile peers' doing.
    const ACCEPTED: [&str; 2] = ["UPSTREAM_NOT_READY", "SOURCE_QUOTA_EXHAUSTED"];
    failures
        .iter()
        .filter(|(_, _, code)| !ACCEPTED.contains(&code.as_str()))
        .map(|(path, status, code)| format!("{path}: {status} {code}"))
        .take(20)
        .collect()
}

fn client() -> reqwest::Client {
    // Past this the answer already counts as late; the bound only keeps the test finite.
    reqwest::Client::builder()
        .timeout(BUDGET + SLACK * 4)
        .build()
        .unwrap()
}

async fn get(
    http: &reqwest::Client,
    base: &str,
    path: &str,
) -> (Duration, Result<(u16, Bytes), String>) {
    let sent = Instant::now();
    let result = match http.get(format!("{base}{path}")).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            Ok((status, body))
        }
        Err(err) => Err(err.to_string()),
    };
    (sent.elapsed(), result)
}

/// The simulators on a listener of their own; with a poison, its Megaview transcript files are
/// replaced by it (Megaview names the file on the host it was asked on).
async fn serve_sandbox(sandbox: &Sandbox, poison: Option<(Poison, Arc<Served>)>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = match poison {
        None => sandbox.router(),
        Some((poison, served)) => {
            sandbox
                .router()
                .layer(axum::middleware::from_fn(move |request, next| {
                    poisoned(poison, served.clone(), request, next)
                }))
        }
    };
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn poisoned(poison: Poison, served: Arc<Served>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/megaview/files/asr/") {
        return next.run(request).await;
    }
    served.count(format!("transcript {}", poison.name()));
    let sentence = |order: usize| {
        format!(
            r#"{{"entity_type":"customer_contact","name":"客户","content":"还在吗？","begin_time":{order}.5,"order":0}}"#
        )
    };
    let json = || (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")]);
    match poison {
        Poison::Huge => {
            let length = 4 * MAX_TRANSCRIPT;
            let chunk = Bytes::from(vec![b' '; CHUNK]);
            let body = futures::stream::iter(
                (0..length / CHUNK).map(move |_| Ok::<_, Infallible>(chunk.clone())),
            );
            let mut response = Response::new(Body::from_stream(body));
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, length.into());
            response
        }
        Poison::Endless => {
            let mut many = String::from("[");
            while many.len() < CHUNK {
                many.push_str(&sentence(1));
                many.push(',');
            }
            let chunk = Bytes::from(many);
            let body = futures::stream::iter(
                (0..ENDLESS_CAP / CHUNK).map(move |_| Ok::<_, Infallible>(chunk.clone())),
            );
            let (status, headers) = json();
            (status, headers, Body::from_stream(body)).into_response()
        }
        Poison::Invalid => {
            let mut body = br#"[{"order":0,"content":""#.to_vec();
            body.extend((0..MIB).map(|i| [0xff, b'"', b'\\', b'{'][i % 4]));
            let (status, headers) = json();
            (status, headers, body).into_response()
        }
        Poison::OneOrder => {
            let sentences: Vec<String> = (0..20_000).map(sentence).collect();
            let (status, headers) = json();
            (status, headers, format!("[{}]", sentences.join(","))).into_response()
        }
        Poison::Drip => {
            let body = futures::stream::unfold(0usize, move |n| async move {
                (n < PEER_LIFETIME.as_millis() as usize / 100).then_some(())?;
                tokio::time::sleep(DRIP_EVERY).await;
                let open = if n == 0 { "[" } else { "," };
                let piece = format!("{open}{}", sentence(n));
                Some((Ok::<_, Infallible>(Bytes::from(piece)), n + 1))
            });
            let (status, headers) = json();
            (status, headers, Body::from_stream(body)).into_response()
        }
    }
}

/// A vendor that reads each request's head and then misbehaves as `peer`.
async fn serve_peer(listener: TcpListener, peer: Peer, served: Arc<Served>) {
    // Ends with the test's runtime.
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let served = served.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            if read_head(&mut stream).await {
                served.count(format!("peer {}", peer.name()));
                let _ = tokio::time::timeout(PEER_LIFETIME, misbehave(&mut stream, peer)).await;
            }
        });
    }
}

/// Whether a whole request head arrived (at most 64 KiB, within 5 s).
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while head.len() < 64 * 1024 {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        let Ok(Ok(n @ 1..)) = read else {
            return false;
        };
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
    }
    false
}

async fn misbehave(stream: &mut TcpStream, peer: Peer) -> std::io::Result<()> {
    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n";
    let drips = PEER_LIFETIME.as_millis() as usize / DRIP_EVERY.as_millis() as usize;
    let chunk = vec![b' '; CHUNK];
    match peer {
        Peer::DripHead => {
            for byte in OK
                .iter()
                .chain(b"x-drip: ")
                .chain(std::iter::repeat_n(&b'a', drips))
            {
                stream.write_all(&[*byte]).await?;
                tokio::time::sleep(DRIP_EVERY).await;
            }
        }
        Peer::DripBody => {
            stream.write_all(OK).await?;
            stream
                .write_all(b"content-length: 1000000\r\n\r\n{")
                .await?;
            for _ in 0..drips {
                stream.write_all(b" ").await?;
                tokio::time::sleep(DRIP_EVERY).await;
            }
        }
        Peer::Oversized => {
            let length = 8 * MAX_VENDOR_BODY;
            stream.write_all(OK).await?;
            stream
                .write_all(format!("content-length: {length}\r\n\r\n").as_bytes())
                .await?;
            for _ in 0..length / CHUNK {
                stream.write_all(&chunk).await?;
            }
        }
        Peer::Endless => {
            stream.write_all(OK).await?;
            stream
                .write_all(b"transfer-encoding: chunked\r\n\r\n")
                .await?;
            for _ in 0..ENDLESS_CAP / CHUNK {
                stream
                    .write_all(format!("{CHUNK:x}\r\n").as_bytes())
                    .await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await?;
            }
        }
        Peer::Unframed => {
            stream.write_all(OK).await?;
            stream.write_all(b"\r\n").await?;
            for _ in 0..ENDLESS_CAP / CHUNK {
                stream.write_all(&chunk).await?;
            }
        }
    }
    Ok(())
}

/// Connects again and again, each time sending a request head (or, with `body`, a whole head
/// and then its body) a byte every 250 ms, and records when the gateway answers and hangs up.
async fn slow_client(gateway: SocketAddr, body: bool, deadline: Instant, tally: Arc<Mutex<Slow>>) {
    const EVERY: Duration = Duration::from_millis(250);
    let head: &[u8] = if body {
        b"GET /healthz HTTP/1.1\r\nhost: soak\r\ncontent-length: 1000000\r\n\r\n"
    } else {
        b"GET /healthz HTTP/1.1\r\nhost: soak\r\nx-slow: "
    };
    while Instant::now() + EVERY * 4 < deadline {
        let Ok(Ok(mut stream)) =
            tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(gateway)).await
        else {
            tokio::time::sleep(EVERY).await;
            continue;
        };
        let opened = Instant::now();
        let give_up = deadline.min(opened + HEADER_READ_TIMEOUT + SLOW_CLIENT_SLACK);
        let (mut answered, mut closed) = (false, false);
        let mut buf = [0u8; 1024];
        let mut sent = 0usize;
        if body && stream.write_all(head).await.is_err() {
            closed = true;
        }
        while !closed && Instant::now() < give_up {
            let byte = if body {
                b'a'
            } else {
                *head.get(sent).unwrap_or(&b'a')
            };
            sent += 1;
            if stream.write_all(&[byte]).await.is_err() {
                closed = true;
                break;
            }
            match tokio::time::timeout(EVERY, stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => closed = true,
                Ok(Ok(_)) => answered = true,
                Err(_) => {}
            }
        }
        let held = opened.elapsed();
        {
            let mut tally = tally.lock().unwrap();
            tally.connections += 1;
            tally.answered += u64::from(answered);
            tally.closed += u64::from(closed);
            tally.longest = tally.longest.max(held);
            if !closed && held >= HEADER_READ_TIMEOUT + SLOW_CLIENT_SLACK {
                tally.problems.push(format!(
                    "a slow {} was still connected after {} ms",
                    if body { "body" } else { "head" },
                    held.as_millis()
                ));
            }
        }
        // Slow, not a flood of connections.
        tokio::time::sleep(EVERY).await;
    }
}
