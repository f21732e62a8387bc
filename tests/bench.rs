//! `bench_echo --quick` runs, checks its own echoes, and prints every row of the table. We assert
//! correctness only: timings depend on the machine, so no test compares them.

mod support;

use support::{assert_success, run, stdout};

const BENCH: &str = env!("CARGO_BIN_EXE_bench_echo");

/// The table rows that start with `| ` and whose first cell is `first`, split into cells.
fn rows<'a>(table: &'a str, first: &str) -> Vec<Vec<&'a str>> {
    table
        .lines()
        .filter(|line| line.starts_with("| "))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .filter(|cells| cells[0].starts_with(first))
        .collect()
}

fn number(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("`{cell}` is not a number"))
}

#[test]
fn quick_benchmark_prints_a_complete_table() {
    let output = run(BENCH, &["--quick"]);
    assert_success(&output);
    let table = stdout(&output);

    // Throughput: four rows, every speed a positive number.
    let seed = rows(&table, "echo_server (the tutorial's code)");
    assert_eq!(seed.len(), 1, "{table}");
    assert_eq!(
        rows(&table, "echo_server code, bigger buffer").len(),
        2,
        "{table}"
    );
    assert_eq!(rows(&table, "ceiling").len(), 1, "{table}");
    assert!(
        table.contains("echo_server code with a 256 KiB buffer / the ceiling: "),
        "{table}"
    );
    // The seed's own Python server, measured in the same run, and echo_server's speed against it.
    if support::python3().is_some() {
        let python = rows(&table, "the tutorial's Python server");
        assert_eq!(python.len(), 1, "{table}");
        assert!(number(python[0][2]) > 0.0, "{:?}", python[0]);
        assert!(number(python[0][3]) >= 9766.0, "{:?}", python[0]);
        assert!(
            table.contains("echo_server / the tutorial's Python server: "),
            "{table}"
        );
    }
    for row in rows(&table, "echo_server")
        .into_iter()
        .chain(rows(&table, "ceiling"))
    {
        assert!(number(row[2]) > 0.0, "{row:?}");
    }
    // The seed's `recv(1024)` never returns more than 1024 bytes: 10 MB need at least 9,766 calls
    // (the benchmark counts the prefixes in the echo, one per `recv`).
    assert!(number(seed[0][3]) >= 9766.0, "{:?}", seed[0]);
    assert!(number(seed[0][4]) <= 1024.0, "{:?}", seed[0]);

    // Latency: six rows with two numbers each.
    let latency: Vec<_> = rows(&table, "each ");
    assert_eq!(latency.len(), 6, "{table}");
    for row in &latency {
        assert!(number(row[3]) <= number(row[4]), "p50 above p99: {row:?}");
    }

    // Many clients: 1, 10 and 100 clients, against both servers.
    for clients in ["1", "10", "100"] {
        let found = rows(&table, "")
            .into_iter()
            .filter(|cells| cells[0] == clients && ["serial", "threaded"].contains(&cells[1]))
            .count();
        assert_eq!(found, 2, "rows for {clients} clients:\n{table}");
    }
}

#[test]
fn unknown_arguments_are_refused_with_a_message() {
    let output = run(BENCH, &["--fast"]);
    let error = support::assert_clean_failure(&output);
    assert!(error.contains("--quick"), "{error}");
}

/// `bench_c10k --quick`: 200 connections held against each of the three many-clients servers,
/// every one answered when it connects and again at the end; the table has a row per server with
/// its latencies, memory and CPU. The servers run as processes of their own, beside this one.
#[cfg(target_os = "linux")]
#[test]
fn quick_c10k_holds_every_connection_against_every_server() {
    let output = run(env!("CARGO_BIN_EXE_bench_c10k"), &["--quick"]);
    assert_success(&output);
    let table = stdout(&output);
    for server in ["threaded", "events", "async"] {
        let row = rows(&table, "200")
            .into_iter()
            .find(|cells| cells[1] == server)
            .unwrap_or_else(|| panic!("no row for {server}:\n{table}"));
        assert_eq!(row[2], "200", "connections held by {server}:\n{table}");
        let (p50, p99, max) = (number(row[3]), number(row[4]), number(row[5]));
        assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{row:?}");
        assert!(number(row[6]) > 0.0 && number(row[8]) >= 0.0, "{row:?}");
    }
    assert!(!table.contains("first failure"), "{table}");
}

#[cfg(target_os = "linux")]
#[test]
fn c10k_says_what_to_raise_when_the_open_file_limit_is_too_low() {
    // `ulimit -Hn 100` in a shell that then runs the benchmark: its hard limit is too low for
    // 1,000 connections, and it cannot raise it.
    let command = format!(
        "ulimit -Sn 100 && ulimit -Hn 100 && exec '{}' --connections=1000",
        env!("CARGO_BIN_EXE_bench_c10k")
    );
    let output = run("sh", &["-c", &command]);
    let error = support::assert_clean_failure(&output);
    assert!(
        error.contains("ulimit -Hn") && error.contains("--connections="),
        "{error}"
    );
}
