//! Connections carry one request each: after its answer the relay closes the connection,
//! so no later request head can be trickled on it and no idle connection stays open.

use std::time::{Duration, Instant};

use authrelay::startup::{DISCONNECT_SECS, REQUEST_HEAD_SECS};
use tokio::net::TcpStream;

use crate::helpers::*;

const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// What became of a connection once its first answer was read.
#[derive(Debug, PartialEq)]
enum End {
    /// The relay closed it (end of stream, or a reset) after this long.
    Closed(Duration),
    /// It was still open when the test stopped waiting.
    Open,
}

/// Connects, sends one `GET /healthz` and reads the whole answer (head and body).
async fn answered_connection() -> (TcpStream, String) {
    let app = spawn_app().await;
    let stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream.writable().await.unwrap();
    assert_eq!(stream.try_write(HEALTHZ.as_bytes()).unwrap(), HEALTHZ.len());
    // "ok\n" is the body of /healthz; the answer is complete once it is in.
    let (buf, error) = read_raw_until(&stream, Duration::from_secs(5), |buf| {
        buf.ends_with(b"\r\n\r\nok\n")
    })
    .await;
    if let Some(e) = error {
        panic!("reading the first answer: {e}");
    }
    let answer = String::from_utf8_lossy(&buf).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer:?}");
    (stream, answer)
}

/// Sends `trickle` one byte every `every` (nothing when it is empty) and watches the
/// connection until the relay closes it or `limit` has passed.
async fn watch(stream: &TcpStream, trickle: &[u8], every: Duration, limit: Duration) -> End {
    let started = Instant::now();
    let mut sent = 0;
    let mut chunk = [0u8; 4096];
    while started.elapsed() < limit {
        if sent < trickle.len() {
            match stream.try_write(&trickle[sent..sent + 1]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return End::Closed(started.elapsed()),
            }
        }
        if let Ok(Ok(())) = tokio::time::timeout(every, stream.readable()).await {
            match stream.try_read(&mut chunk) {
                Ok(0) => return End::Closed(started.elapsed()),
                Ok(n) => panic!(
                    "an answer on the kept connection: {:?}",
                    String::from_utf8_lossy(&chunk[..n])
                ),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return End::Closed(started.elapsed()),
            }
        }
    }
    End::Open
}

/// The answer says the connection ends with it.
fn says_close(answer: &str) -> bool {
    answer
        .to_ascii_lowercase()
        .contains("\r\nconnection: close\r\n")
}

/// A request head sent one byte at a time after a first answer on the same connection
/// was never timed out: actix-web's deadline covers only the first head, and each byte
/// stopped the keep-alive timer, so one client could hold a file descriptor for ever.
#[tokio::test]
async fn a_slow_second_request_head_on_a_kept_alive_connection_is_cut_off() {
    let (stream, answer) = answered_connection().await;
    assert!(says_close(&answer), "{answer:?}");
    let second = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    let bound = Duration::from_secs(REQUEST_HEAD_SECS + DISCONNECT_SECS);
    let end = watch(
        &stream,
        second,
        Duration::from_millis(250),
        bound + Duration::from_secs(2),
    )
    .await;
    match end {
        End::Closed(after) => assert!(after <= bound, "closed only after {after:?}"),
        End::Open => panic!("the trickling connection is still open after {bound:?} and more"),
    }
}

/// A connection that sends nothing after its first answer is closed with that answer, not
/// kept open for a later request.
#[tokio::test]
async fn an_idle_connection_is_closed_after_its_answer() {
    let (stream, answer) = answered_connection().await;
    assert!(says_close(&answer), "{answer:?}");
    let bound = Duration::from_secs(DISCONNECT_SECS);
    let end = watch(
        &stream,
        b"",
        Duration::from_millis(100),
        bound + Duration::from_secs(3),
    )
    .await;
    match end {
        End::Closed(after) => assert!(after <= bound, "closed only after {after:?}"),
        End::Open => panic!("the idle connection is still open after {bound:?} and more"),
    }
}
