//! The `topicfeed` binary: all it does is hand over to [`topicfeed::cli`].

fn main() -> std::process::ExitCode {
    topicfeed::cli::run()
}
