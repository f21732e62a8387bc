//! `step3_listen`: not written yet.

fn main() {
    eprintln!("step3_listen is not written yet");
    std::process::exit(1);
}
