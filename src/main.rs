//! The `topicfeed` binary: all it does is hand over to the command line.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
