//! The floor under a poll: hyper 1 and one single-threaded tokio runtime
//! answering every request with fixed headers (a 304 when the request has
//! `If-None-Match`, else an empty 200 with the same ETag), nothing else.
//! What topicfeed spends per poll above this is its own.
//!
//! It takes `serve`'s command line so that the instruction counter drives
//! it the same way (only `--addr` is read):
//!
//! cargo build --release --example bare_hyper
//! bash examples/callgrind_poll.sh target/release/examples/bare_hyper 2000

use std::convert::Infallible;

use bytes::Bytes;
use http::header::IF_NONE_MATCH;
use http::{Request, Response, StatusCode};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use topicfeed::http::cache::not_modified_headers;
use topicfeed::http::conditional::Coding;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .iter()
        .position(|a| a == "--addr")
        .and_then(|i| args.get(i + 1))
        .map_or("127.0.0.1:8090", String::as_str)
        .to_owned();
    // The very headers topicfeed's 304 of a feed carries.
    let headers = not_modified_headers("\"04946c6c4978c70a07caaf3a\"", Coding::Identity, 60);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        let stop = tokio::signal::ctrl_c();
        tokio::pin!(stop);
        loop {
            // The counter stops its target with SIGINT.
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => accepted?,
                _ = &mut stop => return Ok(()),
            };
            stream.set_nodelay(true)?;
            let headers = headers.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let mut r = Response::new(Empty::<Bytes>::new());
                    *r.headers_mut() = headers.clone();
                    if req.headers().contains_key(IF_NONE_MATCH) {
                        *r.status_mut() = StatusCode::NOT_MODIFIED;
                    }
                    async move { Ok::<_, Infallible>(r) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
