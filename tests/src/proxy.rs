//! A TCP proxy between a site and the credit bank that injects seeded faults or shapes the
//! link (bandwidth and latency). It relays one HTTP/1.1 request per connection (it asks the
//! server to close after answering), which is what lets it cut an exchange at a chosen point.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::Rng;

/// What the proxy does to one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Relay faithfully.
    Pass,
    /// Close before forwarding anything: HQ never sees the request.
    DropRequest,
    /// Forward half the request, then close: HQ sees a cut-off body.
    TruncateRequest,
    /// Forward the request, let HQ commit, then close without answering.
    DropResponse,
    /// Relay half the answer, then close.
    TruncateResponse,
    /// Hold the answer back this many milliseconds, then relay it.
    Delay(u64),
    /// Answer 503 without forwarding.
    ServerError,
    /// Reset the connection (RST) without forwarding.
    Reset,
    /// Forward the request twice; relay the second answer (a duplicated packet train).
    Duplicate,
    /// Relay faithfully, and replay the same request to HQ later, after newer ones (reorder).
    ReplayLater,
    /// Hold the answer back past the client's watchdog (a stalled transfer).
    Stall,
}

impl Fault {
    /// A fault drawn from the generator: about half the exchanges fail somehow.
    pub fn draw(rng: &mut Rng) -> Fault {
        match rng.below(20) {
            0..=8 => Fault::Pass,
            9 => Fault::DropRequest,
            10 => Fault::TruncateRequest,
            11 | 12 => Fault::DropResponse,
            13 => Fault::TruncateResponse,
            14 => Fault::Delay(20 + rng.below(200)),
            15 => Fault::ServerError,
            16 => Fault::Reset,
            17 => Fault::Duplicate,
            18 => Fault::ReplayLater,
            _ => Fault::Stall,
        }
    }
}

/// A link's shape.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Bandwidth each way, bytes per second.
    pub bytes_per_sec: u64,
    /// Added one-way latency (half the round trip).
    pub one_way: Duration,
}

/// What crossed the proxy.
#[derive(Debug, Default)]
pub struct Stats {
    /// Exchanges (connections).
    pub exchanges: AtomicU64,
    /// Bytes from site to HQ.
    pub bytes_up: AtomicU64,
    /// Bytes from HQ to site.
    pub bytes_down: AtomicU64,
    /// Faults applied, in order.
    pub faults: Mutex<Vec<Fault>>,
}

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:port` to give the site as its HQ address.
    pub url: String,
    /// Counters.
    pub stats: Arc<Stats>,
}

enum Mode {
    Faults(Mutex<Rng>),
    Shaped(Shape),
}

impl Proxy {
    /// A proxy that applies `Fault::draw` with a generator seeded by `seed`.
    pub async fn faulty(upstream: SocketAddr, seed: u64) -> std::io::Result<Proxy> {
        Self::start(upstream, Mode::Faults(Mutex::new(Rng::new(seed)))).await
    }

    /// A proxy that limits bandwidth and adds latency.
    pub async fn shaped(upstream: SocketAddr, shape: Shape) -> std::io::Result<Proxy> {
        Self::start(upstream, Mode::Shaped(shape)).await
    }

    async fn start(upstream: SocketAddr, mode: Mode) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let stats = Arc::new(Stats::default());
        let mode = Arc::new(mode);
        let s = stats.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (fault, shape) = match mode.as_ref() {
                    Mode::Faults(rng) => {
                        let mut rng = rng.lock().unwrap_or_else(|p| p.into_inner());
                        (Fault::draw(&mut rng), None)
                    }
                    Mode::Shaped(shape) => (Fault::Pass, Some(*shape)),
                };
                s.exchanges.fetch_add(1, Ordering::Relaxed);
                s.faults
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(fault);
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = exchange(client, upstream, fault, shape, &s).await;
                });
            }
        });
        Ok(Proxy { url, stats })
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(buf);
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Asks the server to close after answering, so the answer ends at EOF.
fn with_close(req: &[u8]) -> Vec<u8> {
    let line_end = req.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
    let mut out = req[..line_end].to_vec();
    out.extend_from_slice(b"connection: close\r\n");
    out.extend_from_slice(&req[line_end..]);
    out
}

async fn send(stream: &mut TcpStream, bytes: &[u8], shape: Option<Shape>) -> std::io::Result<()> {
    match shape {
        None => stream.write_all(bytes).await,
        Some(shape) => {
            tokio::time::sleep(shape.one_way).await;
            for chunk in bytes.chunks(512) {
                stream.write_all(chunk).await?;
                let secs = chunk.len() as f64 / shape.bytes_per_sec as f64;
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            }
            Ok(())
        }
    }
}

/// Sends a request to HQ on a fresh connection and returns the whole answer.
async fn forward(upstream: SocketAddr, req: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(req).await?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).await?;
    Ok(resp)
}

async fn exchange(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    shape: Option<Shape>,
    stats: &Stats,
) -> std::io::Result<()> {
    let req = read_request(&mut client).await?;
    match fault {
        Fault::DropRequest => return Ok(()),
        Fault::ServerError => {
            client.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await?;
            return Ok(());
        }
        Fault::Reset => {
            // A zero linger makes close send RST at once (it cannot block: nothing is queued).
            #[allow(deprecated)]
            client.set_linger(Some(Duration::ZERO))?;
            return Ok(());
        }
        _ => {}
    }
    let req = with_close(&req);
    let mut up = TcpStream::connect(upstream).await?;
    if fault == Fault::TruncateRequest {
        up.write_all(&req[..req.len() / 2]).await?;
        return Ok(());
    }
    send(&mut up, &req, shape).await?;
    stats
        .bytes_up
        .fetch_add(req.len() as u64, Ordering::Relaxed);
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).await?;
    match fault {
        Fault::Duplicate => resp = forward(upstream, &req).await?,
        Fault::ReplayLater => {
            let req = req.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let _ = forward(upstream, &req).await;
            });
        }
        Fault::Stall => tokio::time::sleep(Duration::from_millis(2500)).await,
        _ => {}
    }
    match fault {
        Fault::DropResponse => return Ok(()),
        Fault::TruncateResponse => {
            client.write_all(&resp[..resp.len() / 2]).await?;
            return Ok(());
        }
        Fault::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }
    send(&mut client, &resp, shape).await?;
    stats
        .bytes_down
        .fetch_add(resp.len() as u64, Ordering::Relaxed);
    client.shutdown().await
}
