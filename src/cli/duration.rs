//! Durations on the command line: `10s`, `500ms`, `1.5s`, `2m`, `1h`, or a bare number of seconds.
//!
//! Both TCP servers read their timeouts with [`parse_duration`], so they take the same units. A
//! duration is bounded, from [`SHORTEST`] to [`LONGEST`], so that no value a user types can
//! overflow `Instant + Duration` (a panic) or mean something else to the kernel: a socket timeout
//! of zero means "no timeout at all" to `setsockopt(SO_SNDTIMEO)`, the opposite of what was asked.

use std::time::Duration;

/// The shortest timeout we accept: one millisecond.
pub const SHORTEST: Duration = Duration::from_millis(1);

/// The longest timeout we accept: one day. Longer is "never" for a lesson, and bounded values
/// keep every deadline computation (`Instant::now() + timeout`) far from overflowing.
pub const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// How to write a duration, for error messages.
const HOW: &str =
    "write a number and a unit, e.g. 10s, 500ms, 1.5s or 2m (a bare number is seconds)";

/// Reads a duration such as `10s`, `500ms`, `1.5s`, `2m`, `1h` or `30` (seconds).
///
/// The error says what is wrong without repeating the input: the caller quotes it once.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let unit_at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    let seconds_per_unit = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("is not a duration: {HOW}")),
    };
    // Digits and at most one dot: no sign, no exponent, no `inf` or `NaN`, which `f64` would take.
    if !number.bytes().any(|b| b.is_ascii_digit()) || number.matches('.').count() > 1 {
        return Err(format!("is not a duration: {HOW}"));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("is not a duration: {HOW}"))?;
    let seconds = value * seconds_per_unit; // a huge number of digits gives infinity: too long
    if seconds == 0.0 {
        return Err(
            "is zero: to the kernel a timeout of 0 means no timeout at all; the shortest is 1ms"
                .to_string(),
        );
    }
    if seconds < SHORTEST.as_secs_f64() {
        return Err("is too short: the shortest is 1ms".to_string());
    }
    if seconds > LONGEST.as_secs_f64() {
        return Err("is too long: the longest is 24h (one day)".to_string());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_and_bare_seconds() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("24h"), Ok(LONGEST));
        assert_eq!(parse_duration("1ms"), Ok(SHORTEST));
    }

    #[test]
    fn refuses_what_would_panic_or_mean_no_timeout() {
        for text in [
            "1e20",
            "1e19",
            "18446744073709551615",
            "25h",
            &"9".repeat(400),
            "inf",
            "NaN",
            "-1",
            "+1",
            "",
            ".",
            "1.2.3",
            "10 s",
            "10sec",
            "0.1ms",
        ] {
            assert!(parse_duration(text).is_err(), "{text:?} was accepted");
        }
        let zero = parse_duration("0").unwrap_err();
        assert!(zero.contains("no timeout at all"), "{zero}");
        assert!(parse_duration("0ms").is_err());
    }
}
