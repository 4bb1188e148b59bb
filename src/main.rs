//! The `authrelay` binary: everything is in the library, so that tests run the same code.

fn main() -> std::process::ExitCode {
    authrelay::cli::run()
}
