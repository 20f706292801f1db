//! Fuzzes the SQL DDL importer. The first input byte picks the dialect (PostgreSQL, MySQL,
//! SQLite), the rest is the script. An import may fail, but never panic, and a successful one
//! reads at least one table (the importer's contract: no tables is `VAL_IMPORT_NO_TABLES`).
#![no_main]

use model::import::import_sql;
use model::SqlDialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let dialect = SqlDialect::ALL[usize::from(first) % SqlDialect::ALL.len()];
    if let Ok(imported) = import_sql(text, dialect) {
        assert!(
            !imported.model.entities.is_empty(),
            "an import without tables succeeded"
        );
    }
});
