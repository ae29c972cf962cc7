//! Test-only: exports wasi:cli/run and no Mercato world.

fn main() {
    println!("hello from a component that is not a plugin");
}
