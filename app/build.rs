//! The app's Wasm keeps its linker relocations, which its split into chunks reads
//! (xtask/src/split.rs). For the app's binary only: the Worker's bundle must not carry them.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-bins=--emit-relocs");
    }
}
