//! Fuzzes the parser of an LLM's model answer. It may fail, but never panic, and a model it
//! reads survives its own JSON form unchanged (the stored form is a contract).
#![no_main]

use model::parse::parse_model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(model) = parse_model(text) {
        let json = serde_json::to_string(&model).expect("a parsed model serializes");
        let back = parse_model(&json).expect("a serialized model parses back");
        assert_eq!(back, model, "the model changed through its JSON form");
    }
});
