//! Logging setup.
//!
//! Log lines go to standard error through a small buffer that one writer thread drains:
//! a request appends its line and moves on, and the writer thread writes whatever has
//! gathered in one `write`. When the relay is idle each line is written as soon as it is
//! made (the writer thread is woken for it); under load, lines are written in batches,
//! at most 2 ms late, instead of one system call per callback, which was about a sixth of a callback's CPU
//! time (`docs/performance.md`). [`flush`] writes what is left before the process exits,
//! and a panic flushes before the panic message.

use std::io::Write as _;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), `format` chooses
/// pretty or JSON lines on standard error. Calling it twice is harmless.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| BufferedStderr)
        // Colours only on a terminal: log files and collectors get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A failed write is reported with `eprintln!`, which panics when standard error
        // is a closed pipe: logging is best effort and must never stop the relay.
        .log_internal_errors(false);
    let installed = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    if installed.is_ok() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            flush_within(Duration::from_millis(500));
            previous(info)
        }));
    }
}

/// Writes the log lines still buffered, waiting at most two seconds (standard error may
/// be a pipe nobody reads).
pub fn flush() {
    flush_within(Duration::from_secs(2));
}

/// The most bytes buffered: past it, a request waits for the writer thread (logging
/// slows the relay down rather than growing without bound or dropping lines).
const MAX_BUFFERED: usize = 1 << 20;

/// The most buffer capacity kept between batches.
const KEPT_CAPACITY: usize = 64 << 10;
/// A batch larger than this (a few callback lines) counts as busy.
const BUSY_BATCH: usize = 2048;
/// How long the writer thread lets lines gather after a busy batch.
const BUSY_PAUSE: Duration = Duration::from_millis(2);

/// Lines waiting for the writer thread.
struct Sink {
    state: Mutex<SinkState>,
    /// Wakes the writer thread.
    wake: Condvar,
    /// Wakes requests waiting for room, and [`flush`].
    drained: Condvar,
}

struct SinkState {
    buf: Vec<u8>,
    /// The writer thread waits on `wake`.
    writer_idle: bool,
    /// The writer thread is writing a batch.
    writing: bool,
    /// Threads waiting on `drained`.
    waiters: usize,
}

static SINK: Sink = Sink {
    state: Mutex::new(SinkState {
        buf: Vec::new(),
        writer_idle: false,
        writing: false,
        waiters: 0,
    }),
    wake: Condvar::new(),
    drained: Condvar::new(),
};

/// Whether the writer thread runs; started with the first line.
static WRITER: OnceLock<bool> = OnceLock::new();

impl Sink {
    fn lock(&self) -> MutexGuard<'_, SinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, bytes: &[u8]) {
        let mut st = self.lock();
        while !st.buf.is_empty() && st.buf.len() + bytes.len() > MAX_BUFFERED {
            st.waiters += 1;
            st = self
                .drained
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
            st.waiters -= 1;
        }
        st.buf.extend_from_slice(bytes);
        if st.writer_idle {
            st.writer_idle = false;
            self.wake.notify_one();
        }
    }

    fn run(&self) {
        let mut batch = Vec::new();
        let mut st = self.lock();
        loop {
            while st.buf.is_empty() {
                st.writing = false;
                if st.waiters > 0 {
                    self.drained.notify_all();
                }
                st.writer_idle = true;
                st = self.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            st.writer_idle = false;
            st.writing = true;
            std::mem::swap(&mut st.buf, &mut batch);
            if st.waiters > 0 {
                self.drained.notify_all();
            }
            drop(st);
            // Best effort, as before: a closed or full standard error must not stop the
            // relay.
            let _ = std::io::stderr().write_all(&batch);
            // A batch of more than a few lines means the relay is busy: let the next one
            // gather for a moment rather than wake for every line (a line waits at most
            // this long).
            if batch.len() > BUSY_BATCH {
                std::thread::sleep(BUSY_PAUSE);
            }
            batch.clear();
            // A burst (the thread descheduled for a while) leaves a large buffer behind;
            // give it back rather than keep the high-water mark for ever.
            if batch.capacity() > KEPT_CAPACITY {
                batch = Vec::with_capacity(KEPT_CAPACITY);
            }
            st = self.lock();
        }
    }
}

fn flush_within(limit: Duration) {
    if WRITER.get() != Some(&true) {
        return;
    }
    let deadline = Instant::now() + limit;
    let mut st = SINK.lock();
    while !st.buf.is_empty() || st.writing {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        st.waiters += 1;
        st = SINK
            .drained
            .wait_timeout(st, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        st.waiters -= 1;
    }
}

/// Standard error through [`SINK`]; written directly if the writer thread cannot start.
struct BufferedStderr;

impl std::io::Write for BufferedStderr {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let running = *WRITER.get_or_init(|| {
            std::thread::Builder::new()
                .name("log-writer".into())
                .spawn(|| SINK.run())
                .is_ok()
        });
        if running {
            SINK.push(bytes);
            Ok(bytes.len())
        } else {
            std::io::stderr().write(bytes)
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
