//! The `authrelay` binary: everything is in the library, so that tests run the same code.

/// mimalloc rather than the C library's allocator: a callback makes a few dozen small
/// allocations, and the static musl build's allocator is slow at them
/// (`docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    authrelay::cli::run()
}
