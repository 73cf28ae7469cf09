//! Times as Juju prints them: `--expire` values (Go durations or RFC 3339 times) and the
//! `since` stamps of `goal-state`, from the system clock, in UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the epoch now.
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `(year, month, day)` of a day count since 1970-01-01 (Howard Hinnant's civil algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Now, as `goal-state` prints `since` (`2006-01-02 15:04:05Z`).
pub(crate) fn since_now() -> String {
    rfc3339(now_secs()).replacen('T', " ", 1)
}

/// Go's `time.ParseDuration` for the units Juju users write (`ns` .. `h`, fractions allowed).
fn parse_duration(spec: &str) -> Option<(bool, Duration)> {
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

/// Whether `s` is an RFC 3339 time (`2025-01-01T06:06:06Z`, offsets and fractions allowed)
/// or the same without a zone (Juju reads that as UTC).
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 19
        || !(digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13))
        || !(digits(14..16) && digits(17..19))
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let mut tail = &s[19..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if n == 0 {
            return false;
        }
        tail = &frac[n..];
    }
    match tail {
        "" | "Z" => true,
        offset => {
            let o = offset.as_bytes();
            o.len() == 6
                && (o[0] == b'+' || o[0] == b'-')
                && o[3] == b':'
                && o[1..3].iter().chain(&o[4..6]).all(u8::is_ascii_digit)
        }
    }
}

/// An `--expire` value as the RFC 3339 time it names (durations count from now).
///
/// # Errors
/// Juju's texts: `expire time or duration "x" not valid`, `negative expire duration "x" not
/// valid`.
pub(crate) fn expiry(spec: &str) -> Result<String, String> {
    if is_time(spec) {
        return Ok(if spec.len() == 19 {
            format!("{spec}Z")
        } else {
            spec.to_owned()
        });
    }
    match parse_duration(spec) {
        Some((false, d)) if !d.is_zero() => Ok(rfc3339(now_secs() + d.as_secs())),
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
    fn epoch_seconds_print_as_utc_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
    }

    #[test]
    fn expire_values_follow_juju() {
        assert_eq!(
            expiry("2025-01-01T06:06:06").unwrap(),
            "2025-01-01T06:06:06Z"
        );
        assert_eq!(
            expiry("2025-01-01T06:06:06+02:00").unwrap(),
            "2025-01-01T06:06:06+02:00"
        );
        assert!(expiry("24h").unwrap().ends_with('Z'));
        assert!(expiry("1h30m").is_ok());
        assert_eq!(
            expiry("-1h").unwrap_err(),
            "negative expire duration \"-1h\" not valid"
        );
        assert_eq!(
            expiry("2022-01-01").unwrap_err(),
            "expire time or duration \"2022-01-01\" not valid"
        );
    }
}
