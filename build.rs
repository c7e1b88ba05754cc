//! The conformance tests are generated from `fixtures/**/*.case` at compile time (rstest's
//! `#[files]`), so a new or removed fixture must rebuild them.
fn main() {
    println!("cargo:rerun-if-changed=fixtures");
}
