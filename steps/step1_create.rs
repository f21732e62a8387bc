//! `step1_create`: not written yet.

fn main() {
    eprintln!("step1_create is not written yet");
    std::process::exit(1);
}
