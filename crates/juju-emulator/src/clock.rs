//! Times as Juju prints them: `--expire` values (Go durations or RFC 3339 times, counted
//! from the model's clock) and the `since` stamps of `goal-state` (system clock), in UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use juju_hooks::testing::clock::{parse_rfc3339, rfc3339};

/// Seconds since the epoch now, by the system clock.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The model's time: its own clock, or the system's for a model from before the clock.
pub(crate) fn model_now(model: &juju_hooks::testing::Model) -> u64 {
    if model.clock == 0 {
        now_secs()
    } else {
        model.clock
    }
}

/// Now, as `goal-state` prints `since` (`2006-01-02 15:04:05Z`).
pub(crate) fn since_now() -> String {
    rfc3339(now_secs()).replacen('T', " ", 1)
}

/// Go's `time.ParseDuration` for the units Juju users write (`ns` .. `h`, fractions allowed).
pub(crate) fn parse_duration(spec: &str) -> Option<(bool, Duration)> {
    let (negative, mut rest) = match spec.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, spec.strip_prefix('+').unwrap_or(spec)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    Some((negative, Duration::from_secs_f64(total)))
}

/// An `--expire` value as the RFC 3339 time it names (durations count from `now`).
///
/// # Errors
/// Juju's texts: `expire time or duration "x" not valid`, `negative expire duration "x" not
/// valid`.
pub(crate) fn expiry(spec: &str, now: u64) -> Result<String, String> {
    // An RFC 3339 time (offsets and fractions allowed), or one without a zone (UTC).
    if parse_rfc3339(spec).is_some() {
        return Ok(if spec.len() == 19 {
            format!("{spec}Z")
        } else {
            spec.to_owned()
        });
    }
    match parse_duration(spec) {
        Some((false, d)) if !d.is_zero() => Ok(rfc3339(now + d.as_secs())),
        Some(_) => Err(format!(
            "negative expire duration {} not valid",
            crate::args::go_quote(spec)
        )),
        None => Err(format!(
            "expire time or duration {} not valid",
            crate::args::go_quote(spec)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_values_follow_juju() {
        assert_eq!(
            expiry("2025-01-01T06:06:06", 0).unwrap(),
            "2025-01-01T06:06:06Z"
        );
        assert_eq!(
            expiry("2025-01-01T06:06:06+02:00", 0).unwrap(),
            "2025-01-01T06:06:06+02:00"
        );
        assert_eq!(expiry("24h", 0).unwrap(), "1970-01-02T00:00:00Z");
        assert_eq!(expiry("1h30m", 60).unwrap(), "1970-01-01T01:31:00Z");
        assert_eq!(
            expiry("-1h", 0).unwrap_err(),
            "negative expire duration \"-1h\" not valid"
        );
        assert_eq!(
            expiry("2022-01-01", 0).unwrap_err(),
            "expire time or duration \"2022-01-01\" not valid"
        );
    }
}
