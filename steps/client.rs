//! `client`: not written yet.

fn main() {
    eprintln!("client is not written yet");
    std::process::exit(1);
}
