//! `unix_echo_client`: not written yet.

fn main() {
    eprintln!("unix_echo_client is not written yet");
    std::process::exit(1);
}
