//! Fuzzes the search for the JSON object in an LLM answer. It may find none, but never panics,
//! and what it finds is a slice of the input that starts with `{`.
#![no_main]

use model::parse::extract_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(json) = extract_json(text) {
        assert!(json.starts_with('{'), "extracted {json:?}");
        assert!(
            text.contains(json),
            "extracted text that is not in the input"
        );
    }
});
