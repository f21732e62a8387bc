//! `udp_echo_server`: not written yet.

fn main() {
    eprintln!("udp_echo_server is not written yet");
    std::process::exit(1);
}
