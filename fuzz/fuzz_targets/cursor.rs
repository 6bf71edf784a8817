//! The paging cursor decoder: never panics, and whatever it accepts
//! encodes back to a cursor that decodes to the same position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicfeed::store::cursor;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    common::timed(|| {
        if let Ok(pos) = cursor::decode(s) {
            let again = cursor::encode(&pos);
            assert_eq!(
                cursor::decode(&again).ok(),
                Some(pos),
                "round trip of {again:?}"
            );
        }
    });
});
