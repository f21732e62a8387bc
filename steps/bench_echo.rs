//! `bench_echo`: not written yet.

fn main() {
    eprintln!("bench_echo is not written yet");
    std::process::exit(1);
}
