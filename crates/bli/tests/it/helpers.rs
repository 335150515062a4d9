//! Shared helpers: valid national IDs, a simulator, a connector, and a raw HTTP fake.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use querywarden_bli::simulator::{self, SimulatorConfig, SimulatorHandle};
use querywarden_bli::{BliItem, HttpConnector, HttpConnectorConfig, QueryRequest};
use querywarden_domain::NationalId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A valid citizen ID: `letter`, sex digit, then `n` as 7 digits, plus the check digit.
pub fn make_id(letter: u8, sex: u8, n: u32) -> NationalId {
    let body = format!("{}{}{:07}", letter as char, sex, n % 10_000_000);
    for check in 0..10 {
        if let Ok(id) = NationalId::parse(&format!("{body}{check}")) {
            return id;
        }
    }
    unreachable!("some check digit fits")
}

/// `count` distinct valid IDs.
pub fn ids(count: u32) -> Vec<NationalId> {
    (0..count)
        .map(|i| make_id(b'A' + (i % 26) as u8, 1 + (i % 2) as u8, i * 7919 + 13))
        .collect()
}

pub fn as_of() -> jiff::civil::Date {
    SimulatorConfig::default().as_of
}

pub async fn simulator(config: SimulatorConfig) -> SimulatorHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    simulator::spawn(config, listener).await.unwrap()
}

/// Short timeouts, no retries, breaker effectively off unless a test turns it on.
pub fn config(base_url: &str) -> HttpConnectorConfig {
    let mut c = HttpConnectorConfig::new(base_url);
    c.connect_timeout = Duration::from_millis(500);
    c.read_timeout = Duration::from_millis(700);
    c.max_retries = 0;
    c.breaker_threshold = 0;
    c
}

pub fn connector(base_url: &str) -> HttpConnector {
    HttpConnector::new(config(base_url)).unwrap()
}

static NEXT: AtomicUsize = AtomicUsize::new(1);

pub fn request(item: BliItem, subject: &NationalId) -> QueryRequest {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    QueryRequest::new(
        format!("req-{n}"),
        item,
        subject.clone(),
        "KSSA0001",
        "op.chen",
    )
    .unwrap()
}

/// What the fake answers on one connection.
#[derive(Clone)]
pub enum FakeReply {
    /// A complete response with `Content-Length`.
    Full {
        status: u16,
        content_type: Option<&'static str>,
        body: Vec<u8>,
    },
    /// `Transfer-Encoding: chunked` with `total` bytes of `x`, no length announced.
    Chunked { total: usize },
    /// Headers at once, then the body one byte per `interval`.
    Trickle { body: Vec<u8>, interval: Duration },
    /// Close the connection without answering.
    Close,
}

impl FakeReply {
    pub fn json(status: u16, body: &str) -> Self {
        Self::Full {
            status,
            content_type: Some("application/json"),
            body: body.as_bytes().to_vec(),
        }
    }
}

pub struct Fake {
    pub base_url: String,
    pub seen: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

/// A raw-socket HTTP/1.1 server answering each request with `reply(n)` (n from 0), then
/// closing the connection.
pub async fn fake(reply: impl Fn(usize) -> FakeReply + Send + Sync + 'static) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let reply = Arc::new(reply);
    let (s, r) = (seen.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (s, r, reply) = (s.clone(), r.clone(), reply.clone());
            tokio::spawn(async move {
                let _ = serve_one(stream, &s, &r, &*reply).await;
            });
        }
    });
    Fake {
        base_url,
        seen,
        requests,
    }
}

async fn serve_one(
    mut stream: TcpStream,
    seen: &AtomicUsize,
    requests: &Mutex<Vec<String>>,
    reply: &(dyn Fn(usize) -> FakeReply + Send + Sync),
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    requests
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&buf).to_string());
    let n = seen.fetch_add(1, Ordering::SeqCst);
    match reply(n) {
        FakeReply::Full {
            status,
            content_type,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if let Some(ct) = content_type {
                out.push_str(&format!("Content-Type: {ct}\r\n"));
            }
            out.push_str("\r\n");
            stream.write_all(out.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        FakeReply::Chunked { total } => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                .await?;
            let piece = vec![b'x'; 16 * 1024];
            let mut sent = 0;
            while sent < total {
                stream
                    .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                    .await?;
                stream.write_all(&piece).await?;
                stream.write_all(b"\r\n").await?;
                sent += piece.len();
            }
            stream.write_all(b"0\r\n\r\n").await?;
        }
        FakeReply::Trickle { body, interval } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            for b in body {
                stream.write_all(&[b]).await?;
                stream.flush().await?;
                tokio::time::sleep(interval).await;
            }
        }
        FakeReply::Close => {}
    }
    stream.shutdown().await
}
