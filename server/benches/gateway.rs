//! The gateway's load benchmark. SKELETON: being written.

fn main() {}
