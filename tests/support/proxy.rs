//! A loopback TCP proxy in front of a server (here: moto as SSM), that a test can switch between
//! forwarding and three failures, to give the function an SSM that is down, hangs or throttles
//! while the parameters stay where they are.
//!
//! * [`Mode::Forward`]: bytes pass both ways.
//! * [`Mode::Down`]: the proxy closes its listening socket, so connecting is refused
//!   (`ECONNREFUSED`, as for a stopped server); switching back binds the same port again.
//! * [`Mode::Hang`]: connections are accepted and the request read, but nothing is answered
//!   (for at most [`HANG_LIMIT`], so no loop here is unbounded).
//! * [`Mode::Respond`]: every request is answered with a canned HTTP response, e.g. SSM's
//!   `ThrottlingException` ([`Mode::ssm_throttling`]).
//!
//! Switching modes cuts every open connection, so a client's pooled keep-alive connection
//! cannot carry on in the old mode. Runs on the calling test's tokio runtime; stops on drop.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest a hanging connection is held open.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);
/// The most of a request the proxy reads before answering in [`Mode::Respond`].
const MAX_REQUEST: usize = 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Down,
    Hang,
    /// A complete HTTP/1.1 response: status line, headers and body.
    Respond(String),
}

impl Mode {
    /// What SSM answers when its request rate is exceeded (JSON 1.1 protocol): `400` with
    /// `ThrottlingException`, which the AWS SDK treats as a retryable throttling error.
    pub fn ssm_throttling() -> Mode {
        let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        Mode::Respond(format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\n\
             x-amzn-requestid: 00000000-0000-0000-0000-000000000000\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ))
    }
}

pub struct Proxy {
    port: u16,
    upstream: SocketAddr,
    mode: watch::Sender<Mode>,
    listener_task: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts forwarding from a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr, mode: Mode) -> Proxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding the proxy to 127.0.0.1:0");
        let port = listener.local_addr().expect("proxy address").port();
        let (sender, _) = watch::channel(mode.clone());
        let mut proxy = Proxy {
            port,
            upstream,
            mode: sender,
            listener_task: None,
        };
        if mode == Mode::Down {
            drop(listener);
        } else {
            proxy.listener_task = Some(proxy.serve(listener));
        }
        proxy
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn mode(&self) -> Mode {
        self.mode.borrow().clone()
    }

    /// Switches the mode; open connections are cut.
    pub async fn set_mode(&mut self, mode: Mode) {
        let was_down = self.mode() == Mode::Down;
        self.mode.send_replace(mode.clone());
        if mode == Mode::Down {
            if let Some(task) = self.listener_task.take() {
                task.abort();
                let _ = task.await;
            }
        } else if was_down {
            // Nothing else should have taken the port in the meantime; retry briefly if so.
            let mut bound = None;
            for _ in 0..50 {
                match TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await {
                    Ok(listener) => {
                        bound = Some(listener);
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
            let listener = bound.unwrap_or_else(|| {
                panic!("the proxy could not bind 127.0.0.1:{} again", self.port)
            });
            self.listener_task = Some(self.serve(listener));
        }
    }

    fn serve(&self, listener: TcpListener) -> JoinHandle<()> {
        let upstream = self.upstream;
        let modes = self.mode.subscribe();
        tokio::spawn(async move {
            let connections = Arc::new(tokio::sync::Semaphore::new(256));
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    // Out of descriptors or similar: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                // Bounded: at most 256 connections at a time; more wait for a slot.
                let Ok(permit) = connections.clone().acquire_owned().await else {
                    return;
                };
                let mut modes = modes.clone();
                let mode = modes.borrow_and_update().clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    tokio::select! {
                        _ = handle(client, upstream, mode) => {}
                        _ = modes.changed() => {}
                    }
                });
            }
        })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = self.listener_task.take() {
            task.abort();
        }
        // Cuts the open connections.
        self.mode.send_replace(Mode::Down);
    }
}

async fn handle(mut client: TcpStream, upstream: SocketAddr, mode: Mode) {
    match mode {
        Mode::Forward => {
            if let Ok(mut server) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        }
        Mode::Down => {}
        Mode::Hang => {
            let mut sink = vec![0u8; 8192];
            let _ = tokio::time::timeout(HANG_LIMIT, async {
                while let Ok(n) = client.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
        }
        Mode::Respond(response) => {
            if read_request(&mut client).await {
                let _ = client.write_all(response.as_bytes()).await;
                let _ = client.shutdown().await;
            }
        }
    }
}

/// Reads one HTTP/1.1 request (headers, then `content-length` bytes); false on EOF or error.
async fn read_request(client: &mut TcpStream) -> bool {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let read_all = async {
        loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buffer.len() >= end + 4 + length {
                    return true;
                }
            }
            if buffer.len() > MAX_REQUEST {
                return true;
            }
            match client.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read_all)
        .await
        .unwrap_or(false)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
