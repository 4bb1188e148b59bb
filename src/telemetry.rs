//! Logging setup.
//!
//! Log lines go to standard error through `tracing-appender`'s non-blocking writer: a
//! request hands its line to a bounded channel and moves on, and one `log-writer` thread
//! writes them. That thread collects what has gathered in `Batches` and writes it with
//! one `write`; under load it lets the next batch gather for a moment (at most 2 ms)
//! instead of being woken for every line, which is what makes the hand-off cheaper than
//! a system call per callback (`docs/performance.md`). When the channel is full a
//! request waits: logging slows the relay down rather than drop lines or grow without
//! bound. [`flush`] writes what is left before the process exits, and a
//! panic flushes before the panic message.
//!
//! `LOG_FORMAT=json` lines are made by [`JsonLines`], which writes the same object as
//! `tracing-subscriber`'s JSON formatter with `flatten_event(true)` (a test compares the
//! two byte for byte) straight into the line, without intermediate strings or `serde`
//! adaptors (through them, JSON formatting costs about a tenth of a callback's CPU time).

use std::fmt::{self, Write as _};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The most lines waiting for the writer thread; past it, a request waits for room.
const MAX_LINES: usize = 4096;
/// A batch larger than this (a few callback lines) means the relay is busy.
const BUSY_BATCH: usize = 2048;
/// How long the writer thread lets lines gather after a busy batch.
const BUSY_PAUSE: Duration = Duration::from_millis(2);
/// The most bytes collected before they are written, whatever the channel still holds.
const MAX_BATCH: usize = 256 << 10;
/// The most batch capacity kept between batches.
const KEPT_CAPACITY: usize = 64 << 10;

/// The writer thread's handle: dropping it writes what is queued and stops the thread.
static GUARD: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), `format` chooses
/// pretty or JSON lines on standard error. Calling it twice is harmless.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(MAX_LINES)
        .thread_name("log-writer")
        .finish(Batches::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colours only on a terminal: log files and collectors get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A failed write is reported with `eprintln!`, which panics when standard error
        // is a closed pipe: logging is best effort and must never stop the relay.
        .log_internal_errors(false);
    let installed = match format {
        LogFormat::Json => builder.event_format(JsonLines).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    if installed.is_ok() {
        *GUARD.lock().unwrap_or_else(PoisonError::into_inner) = Some(guard);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The release build aborts on panic: write the queued lines first.
            flush();
            previous(info)
        }));
    }
}

/// Writes the log lines still queued and stops the writer thread (waiting about a second
/// at most: standard error may be a pipe nobody reads). Lines logged afterwards are
/// dropped, so this is for the way out of the process.
pub fn flush() {
    let guard = GUARD.lock().unwrap_or_else(PoisonError::into_inner).take();
    drop(guard);
}

/// What the writer thread writes to: lines are collected, and written with one `write`
/// when the channel has no more for now (`flush`) or the batch is large.
struct Batches<W: std::io::Write> {
    out: W,
    batch: Vec<u8>,
}

impl<W: std::io::Write> Batches<W> {
    fn new(out: W) -> Self {
        Self {
            out,
            batch: Vec::new(),
        }
    }

    /// Best effort, as everywhere in logging: the batch is gone whether or not the write
    /// succeeded, so a closed or full standard error cannot stop or grow anything.
    fn write_batch(&mut self) -> std::io::Result<()> {
        let written = self.out.write_all(&self.batch);
        self.batch.clear();
        // A burst leaves a large buffer behind; give it back rather than keep the
        // high-water mark for ever.
        if self.batch.capacity() > KEPT_CAPACITY {
            self.batch = Vec::with_capacity(KEPT_CAPACITY);
        }
        written
    }
}

impl<W: std::io::Write> std::io::Write for Batches<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.batch.len() + bytes.len() > MAX_BATCH {
            self.write_batch()?;
        }
        self.batch.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    /// Called by the writer thread when the channel is empty: write the batch, and when
    /// it was a busy one, let the next gather for a moment rather than be woken for every
    /// line (a line waits at most [`BUSY_PAUSE`]).
    fn flush(&mut self) -> std::io::Result<()> {
        let busy = self.batch.len() > BUSY_BATCH;
        let written = self.write_batch();
        if busy {
            std::thread::sleep(BUSY_PAUSE);
        }
        written
    }
}

impl<W: std::io::Write> Drop for Batches<W> {
    fn drop(&mut self) {
        let _ = self.write_batch();
    }
}

/// `LOG_FORMAT=json`: one JSON object a line, `timestamp`, `level`, the event's fields in
/// order (`message` among them), `target`. Byte for byte what `tracing-subscriber`'s
/// `json().flatten_event(true)` writes for the relay's events, which have no spans.
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events from the `log` crate carry their real target in fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        // humantime writes the shape tracing-subscriber's `SystemTime` writes
        // (`2026-12-01T18:49:51.901219Z`, UTC, microseconds) without `core::fmt` padding.
        write!(
            w,
            "{{\"timestamp\":\"{}\",\"level\":\"{}\"",
            humantime::format_rfc3339_micros(std::time::SystemTime::now()),
            meta.level()
        )?;
        let mut fields = JsonFields {
            w: &mut w,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        w.write_str(",\"target\":\"")?;
        Escaped(&mut w).write_str(meta.target())?;
        w.write_str("\"}\n")
    }
}

/// Writes each field as `,"name":value`.
struct JsonFields<'a, 'w> {
    w: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl JsonFields<'_, '_> {
    /// `,"name":` then the value; a `string` value gets its opening quote in the same
    /// write, and its closing one after it.
    fn entry(
        &mut self,
        field: &Field,
        string: bool,
        value: impl FnOnce(&mut Writer<'_>) -> fmt::Result,
    ) {
        if self.result.is_ok() {
            self.result = (|| {
                self.w.write_str(",\"")?;
                Escaped(self.w).write_str(field.name())?;
                self.w.write_str(if string { "\":\"" } else { "\":" })?;
                value(self.w)?;
                if string {
                    self.w.write_char('"')?;
                }
                Ok(())
            })();
        }
    }
}

impl Visit for JsonFields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, true, |w| Escaped(w).write_str(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.entry(field, true, |w| write!(Escaped(w), "{value:?}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, false, |w| write!(w, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, false, |w| write!(w, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, false, |w| {
            w.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // As serde_json: shortest round-trip form, and null for what JSON cannot carry.
        self.entry(field, false, |w| {
            match serde_json::Number::from_f64(value) {
                Some(n) => write!(w, "{n}"),
                None => w.write_str("null"),
            }
        });
    }
}

/// Whether `b` must be escaped inside a JSON string.
const fn needs_json_escape(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

/// [`needs_json_escape`] for every byte, as a table: one load a byte.
static JSON_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = needs_json_escape(b as u8);
        b += 1;
    }
    table
};

/// Whether `s` holds a byte that must be escaped inside a JSON string (it runs on every
/// field name and value of every log line, most of them a few bytes long).
fn has_json_special(s: &[u8]) -> bool {
    s.iter().any(|&b| JSON_SPECIAL[usize::from(b)])
}

/// Escapes what it is given for the inside of a JSON string: `"`, `\` and the control
/// characters below U+0020.
struct Escaped<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaped<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Most values (hosts, names, codes) need none: one scan, one write.
        if !has_json_special(s.as_bytes()) {
            return self.0.write_str(s);
        }
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            if !needs_json_escape(b) {
                continue;
            }
            // Every byte that needs escaping is ASCII, so `i` is a character boundary.
            self.0.write_str(&s[plain..i])?;
            match b {
                b'"' => self.0.write_str("\\\"")?,
                b'\\' => self.0.write_str("\\\\")?,
                b'\n' => self.0.write_str("\\n")?,
                b'\r' => self.0.write_str("\\r")?,
                b'\t' => self.0.write_str("\\t")?,
                0x08 => self.0.write_str("\\b")?,
                0x0c => self.0.write_str("\\f")?,
                _ => write!(self.0, "\\u{b:04x}")?,
            }
            plain = i + 1;
        }
        self.0.write_str(&s[plain..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::Arc;
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn events() {
        let quoted =
            "a \"quoted\" \\ back\\slash\nnew line\ttab\r\u{1}\u{8}\u{c}\u{1f}\u{7f} é ☃ 🦀";
        tracing::info!(
            app = "default",
            outcome = "redirect",
            detail = "",
            latency_us = 89u64,
            negative = -12i64,
            flag = true,
            big = 12345678901234567890u64,
            wide = 1u128 << 100,
            shown = %"display \"value\"",
            debugged = ?("tuple", 1),
            text = quoted,
            "callback"
        );
        tracing::warn!(
            ratio = 0.25f64,
            tiny = 1e-7f64,
            huge = 1e300f64,
            nan = f64::NAN,
            "numbers {}",
            42
        );
        tracing::error!("only a message with {:?}", "quotes\"");
        let host = std::net::Ipv4Addr::LOCALHOST;
        tracing::info!(host = %host, port = 3000u16, "authrelay listening");
    }

    fn capture(json: impl FnOnce(Captured) -> tracing::Dispatch) -> String {
        let out = Captured::default();
        tracing::dispatcher::with_default(&json(out.clone()), events);
        out.text()
    }

    /// Everything after the timestamp, which differs between two runs.
    fn without_timestamps(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| {
                let rest = l
                    .strip_prefix("{\"timestamp\":\"")
                    .and_then(|r| r.split_once('"'))
                    .map(|(ts, rest)| {
                        let shape: String = ts
                            .chars()
                            .map(|c| if c.is_ascii_digit() { 'd' } else { c })
                            .collect();
                        assert_eq!(shape, "dddd-dd-ddTdd:dd:dd.ddddddZ", "timestamp {ts}");
                        rest
                    });
                rest.unwrap_or_else(|| panic!("no timestamp first: {l}"))
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn json_lines_are_what_tracing_subscriber_writes() {
        let ours = capture(|w| {
            tracing_subscriber::fmt()
                .with_writer(w)
                .with_ansi(false)
                .event_format(JsonLines)
                .into()
        });
        let theirs = capture(|w| {
            tracing_subscriber::fmt()
                .with_writer(w)
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .into()
        });
        let (ours, theirs) = (without_timestamps(&ours), without_timestamps(&theirs));
        assert_eq!(ours.len(), 4);
        assert_eq!(ours, theirs);
        for line in &ours {
            let v: serde_json::Value =
                serde_json::from_str(&format!("{{\"timestamp\":\"x\"{line}")).unwrap();
            assert!(v["message"].is_string() && v["target"].is_string());
        }
    }

    #[test]
    fn batches_write_once_per_flush_and_keep_no_large_buffer() {
        let out = Captured::default();
        let mut b = Batches::new(out.clone());
        b.write_all(b"one\n").unwrap();
        b.write_all(b"two\n").unwrap();
        assert_eq!(out.text(), "", "nothing is written before the flush");
        b.flush().unwrap();
        assert_eq!(out.text(), "one\ntwo\n");
        let line = vec![b'x'; 1000];
        for _ in 0..300 {
            b.write_all(&line).unwrap();
        }
        assert!(
            out.text().len() > 200_000,
            "a batch past MAX_BATCH is written at once"
        );
        b.flush().unwrap();
        assert_eq!(out.text().len(), 8 + 300_000);
        assert!(b.batch.capacity() <= KEPT_CAPACITY);
        b.write_all(b"last\n").unwrap();
        drop(b);
        assert!(out.text().ends_with("xlast\n"), "dropping writes the rest");
    }
}
