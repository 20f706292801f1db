//! Fuzzes the parser of an LLM's change-set answer. It may fail, but never panic, and a change
//! set it reads survives its own JSON form unchanged.
#![no_main]

use model::ops::parse_change_set;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = parse_change_set(text) {
        let json = serde_json::to_string(&set).expect("a parsed change set serializes");
        let back = parse_change_set(&json).expect("a serialized change set parses back");
        assert_eq!(back, set, "the change set changed through its JSON form");
    }
});
