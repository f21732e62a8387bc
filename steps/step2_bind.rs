//! `step2_bind`: not written yet.

fn main() {
    eprintln!("step2_bind is not written yet");
    std::process::exit(1);
}
