//! `step5_process`: not written yet.

fn main() {
    eprintln!("step5_process is not written yet");
    std::process::exit(1);
}
