//! Conditional requests and content codings: the rules that make a repeat
//! poll cost almost nothing.
//!
//! `If-None-Match` is compared weakly, as RFC 9110 §13.1.2 requires, and
//! wins over `If-Modified-Since`. One strong ETag covers every coding of a
//! feed (the checker and caches revalidate a gzip copy with it), and the
//! compressed copies are made once per feed version, in the cache.

use chrono::{DateTime, Utc};
use http::HeaderMap;
use http::header::{ACCEPT_ENCODING, IF_MODIFIED_SINCE, IF_NONE_MATCH};

/// True when the client's cached copy is current: answer 304. `etag` is
/// the identity ETag; the tag a client got with a compressed copy
/// ([`coded_etag`]) matches too, since it names the same content.
pub fn not_modified(headers: &HeaderMap, etag: &str, last_modified: Option<DateTime<Utc>>) -> bool {
    if let Some(inm) = headers.get(IF_NONE_MATCH) {
        // What a reader sends back is nearly always the tag it was given.
        if inm.as_bytes() == etag.as_bytes() {
            return true;
        }
        let Ok(inm) = inm.to_str() else { return false };
        let ours = opaque(etag);
        return inm.split(',').map(str::trim).any(|t| {
            let t = opaque(t);
            // `"abc-gzip"` matches `"abc"`: the same version, coded.
            t == "*"
                || t == ours
                || uncoded(t).is_some_and(|base| ours.strip_suffix('"') == Some(base))
        });
    }
    if let (Some(ims), Some(lm)) = (headers.get(IF_MODIFIED_SINCE), last_modified)
        && let Some(since) = ims
            .to_str()
            .ok()
            .and_then(|s| httpdate::parse_http_date(s).ok())
    {
        let since: DateTime<Utc> = since.into();
        return lm.timestamp() <= since.timestamp();
    }
    false
}

/// The strong ETag of `etag`'s content sent with `coding`: RFC 9110
/// §8.8.3.3 wants each content coding to have its own strong tag.
pub fn coded_etag(etag: &str, coding: Coding) -> String {
    match coding.header() {
        None => etag.to_owned(),
        Some(c) => format!("{}-{c}\"", etag.trim_end_matches('"')),
    }
}

/// A coded tag without its coding suffix and closing quote (`"abc-gzip"`
/// → `"abc`), to compare with the identity tag without its closing quote.
fn uncoded(tag: &str) -> Option<&str> {
    ["-gzip\"", "-br\"", "-zstd\""]
        .iter()
        .find_map(|suffix| tag.strip_suffix(suffix))
}

/// The opaque part of an entity tag, without a weak prefix.
fn opaque(tag: &str) -> &str {
    tag.trim().strip_prefix("W/").unwrap_or(tag.trim())
}

/// IMF-fixdate, the only date format HTTP headers carry.
pub fn http_date(t: DateTime<Utc>) -> String {
    httpdate::fmt_http_date(t.into())
}

/// A content coding the server can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
    Zstd,
}

impl Coding {
    pub fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
            Coding::Zstd => Some("zstd"),
        }
    }
}

/// Picks the coding from `Accept-Encoding`: the client's highest q-value,
/// ties broken by size (brotli, zstd, gzip); `q=0` refuses one.
pub fn negotiate(headers: &HeaderMap) -> Coding {
    let Some(value) = headers.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Coding::Identity;
    };
    // Every poll from a real reader carries this header: one pass over it,
    // in place. Per coding (`*`, br, zstd, gzip) its first listing's q.
    let mut listed: [Option<f32>; 4] = [None; 4];
    for part in value.split(',') {
        let mut pieces = part.split(';');
        let name = pieces.next().unwrap_or("").trim();
        let slot = match name {
            "*" => 0,
            _ if name.eq_ignore_ascii_case("br") => 1,
            _ if name.eq_ignore_ascii_case("zstd") => 2,
            _ if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") => 3,
            _ => continue,
        };
        if listed[slot].is_none() {
            listed[slot] = Some(
                pieces
                    .filter_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.trim().parse::<f32>().ok())
                    })
                    .next()
                    .unwrap_or(1.0),
            );
        }
    }
    let star = listed[0];
    let mut best = (0.0f32, 0u8, Coding::Identity);
    for (coding, slot, rank) in [
        (Coding::Brotli, 1, 3u8),
        (Coding::Zstd, 2, 2),
        (Coding::Gzip, 3, 1),
    ] {
        let q = listed[slot].or(star).unwrap_or(0.0);
        if q > 0.0 && (q > best.0 || (q == best.0 && rank > best.1)) {
            best = (q, rank, coding);
        }
    }
    best.2
}

/// Compresses `body` with `coding`. Levels favour size: each feed version
/// is compressed once and served many times.
pub fn compress(coding: Coding, body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match coding {
        Coding::Identity => body.to_vec(),
        Coding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(body);
            enc.finish().unwrap_or_default()
        }
        Coding::Brotli => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 9,
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
            out
        }
        Coding::Zstd => zstd::bulk::compress(body, 12).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(http::header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn etags_compare_weakly_and_win_over_dates() {
        let lm = Some(Utc::now());
        assert!(not_modified(
            &headers(&[(IF_NONE_MATCH, "\"a\", W/\"b\"")]),
            "\"b\"",
            lm
        ));
        assert!(not_modified(&headers(&[(IF_NONE_MATCH, "*")]), "\"b\"", lm));
        assert!(!not_modified(
            &headers(&[(IF_NONE_MATCH, "\"x\"")]),
            "\"b\"",
            lm
        ));
        // A mismatching ETag is not rescued by a matching date.
        let h = headers(&[
            (IF_NONE_MATCH, "\"x\""),
            (IF_MODIFIED_SINCE, "Sun, 06 Nov 2094 08:49:37 GMT"),
        ]);
        assert!(!not_modified(&h, "\"b\"", lm));
    }

    #[test]
    fn coded_etags_differ_but_revalidate() {
        let gz = coded_etag("\"b\"", Coding::Gzip);
        assert_eq!(gz, "\"b-gzip\"");
        assert!(not_modified(
            &headers(&[(IF_NONE_MATCH, &gz)]),
            "\"b\"",
            None
        ));
        assert!(!not_modified(
            &headers(&[(IF_NONE_MATCH, "\"c-gzip\"")]),
            "\"b\"",
            None
        ));
    }

    #[test]
    fn if_modified_since() {
        let lm = DateTime::parse_from_rfc3339("2026-11-20T09:30:00Z")
            .expect("date")
            .with_timezone(&Utc);
        assert!(not_modified(
            &headers(&[(IF_MODIFIED_SINCE, &http_date(lm))]),
            "\"b\"",
            Some(lm)
        ));
        assert!(!not_modified(
            &headers(&[(IF_MODIFIED_SINCE, "Sat, 01 Jan 2000 00:00:00 GMT")]),
            "\"b\"",
            Some(lm)
        ));
        assert!(!not_modified(
            &headers(&[(IF_MODIFIED_SINCE, "garbage")]),
            "\"b\"",
            Some(lm)
        ));
    }

    #[test]
    fn coding_negotiation() {
        let n = |v: &str| negotiate(&headers(&[(ACCEPT_ENCODING, v)]));
        assert_eq!(n("gzip"), Coding::Gzip);
        assert_eq!(n("gzip, deflate, br"), Coding::Brotli);
        assert_eq!(n("gzip;q=1.0, br;q=0.5"), Coding::Gzip);
        assert_eq!(n("identity"), Coding::Identity);
        assert_eq!(n("br;q=0, gzip;q=0"), Coding::Identity);
        assert_eq!(n("*"), Coding::Brotli);
        assert_eq!(n("zstd, gzip"), Coding::Zstd);
        assert_eq!(negotiate(&HeaderMap::new()), Coding::Identity);
    }

    #[test]
    fn compression_round_trips() {
        use std::io::Read;
        let body = b"<rss>hello hello hello hello</rss>".repeat(50);
        let gz = compress(Coding::Gzip, &body);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .expect("gunzip");
        assert_eq!(out, body);
        let z = compress(Coding::Zstd, &body);
        assert_eq!(zstd::decode_all(&z[..]).expect("unzstd"), body);
        let br = compress(Coding::Brotli, &body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).expect("unbrotli");
        assert_eq!(out, body);
        assert!(gz.len() < body.len() && br.len() < body.len());
    }
}
