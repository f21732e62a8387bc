//! `step6_close`: not written yet.

fn main() {
    eprintln!("step6_close is not written yet");
    std::process::exit(1);
}
