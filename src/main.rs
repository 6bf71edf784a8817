//! The `topicfeed` binary: all it does is hand over to the command line.

mod cli;

/// Normalizing allocates many short strings (a word, a line, a part of a
/// date line); mimalloc serves them faster than the system allocator
/// (`examples/bench_normalize`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
