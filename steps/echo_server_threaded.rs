//! `echo_server_threaded`: not written yet.

fn main() {
    eprintln!("echo_server_threaded is not written yet");
    std::process::exit(1);
}
