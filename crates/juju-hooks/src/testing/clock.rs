//! The model's clock: times as seconds since the epoch (UTC), RFC 3339 in and out, and the
//! calendar steps of Juju's rotation policies.
//!
//! The model keeps its own time ([`Model::clock`]): it starts when the model is created and
//! moves only with [`Model::advance_clock`], so the hooks that time fires (`secret-rotate`,
//! `secret-expired`) come exactly when a test says so.

use super::model::HookInvocation;
use super::model::Model;
use crate::secret::RotatePolicy;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Juju's `RotateRetryDelay` and `ExpireRetryDelay` (core/secrets/rotate.go): how soon a
/// rotation or an expiry that the charm did not act on fires again.
pub const RETRY_DELAY_SECS: u64 = 5 * 60;

/// `(year, month, day)` of a day count since 1970-01-01 (Howard Hinnant's civil algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a date; months and days out of range roll over, as Go's
/// `time.Date` normalizes them (January 31 plus one month is March 3 or 2).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let (year, month) = (
        year + (month - 1).div_euclid(12),
        (month - 1).rem_euclid(12) + 1,
    );
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let (days, rem) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an RFC 3339 time (`2025-01-01T06:06:06Z`, fractions and `+02:00` offsets allowed,
/// no zone read as UTC) to seconds since the epoch; `None` if it is not one or lies before
/// 1970.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| digits(text.get(r)?);
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut tail = &text[19..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if n == 0 {
            return None;
        }
        tail = &frac[n..];
    }
    let offset = match tail {
        "" | "Z" => 0,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let part = |r: std::ops::Range<usize>| digits(zone.get(r)?);
            if zone.len() != 6 || zone.as_bytes()[3] != b':' {
                return None;
            }
            sign * (part(1..3)? * 3600 + part(4..6)? * 60)
        }
    };
    let secs =
        days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(secs).ok()
}

/// A run of ASCII digits as a number (no sign, no spaces).
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// When a secret with `policy`, last rotated at `last`, rotates next (Juju's
/// `RotatePolicy.NextRotateTime`: calendar days, months and years); `None` for `never`.
pub fn next_rotation(policy: RotatePolicy, last: u64) -> Option<u64> {
    let (days, months) = match policy {
        RotatePolicy::Never => return None,
        RotatePolicy::Hourly => return Some(last + 3600),
        RotatePolicy::Daily => (1, 0),
        RotatePolicy::Weekly => (7, 0),
        RotatePolicy::Monthly => (0, 1),
        RotatePolicy::Quarterly => (0, 3),
        RotatePolicy::Yearly => (0, 12),
    };
    let secs = i64::try_from(last).ok()?;
    let (date, time) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let (y, m, d) = civil(date);
    let moved = days_from_civil(y, m + months, d + days);
    u64::try_from(moved * DAY + time).ok()
}

impl Model {
    /// Moves the model's clock forward by `secs` and returns the hooks that time makes due:
    /// `secret-rotate` for each secret whose rotation time has come, `secret-expired` for
    /// each revision whose expiry has (see [`Model::due_secret_hooks`]).
    pub fn advance_clock(&mut self, secs: u64) -> Vec<HookInvocation> {
        self.clock = self.clock.saturating_add(secs);
        self.due_secret_hooks()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_and_parse_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
        for secs in [0, 951_782_400, 1_767_225_599, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        assert_eq!(
            parse_rfc3339("2000-02-29T02:00:00+02:00"),
            Some(951_782_400)
        );
        assert_eq!(
            parse_rfc3339("2000-02-28T23:00:00.75-01:00"),
            Some(951_782_400)
        );
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00"), Some(951_782_400));
        assert_eq!(parse_rfc3339("2000-02-29"), None);
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00+0200"), None);
    }

    #[test]
    fn rotation_policies_step_as_go_add_date() {
        let jan31 = parse_rfc3339("2025-01-31T10:00:00Z").unwrap();
        let at = |p| next_rotation(p, jan31).map(rfc3339);
        assert_eq!(at(RotatePolicy::Never), None);
        assert_eq!(at(RotatePolicy::Hourly).unwrap(), "2025-01-31T11:00:00Z");
        assert_eq!(at(RotatePolicy::Daily).unwrap(), "2025-02-01T10:00:00Z");
        assert_eq!(at(RotatePolicy::Weekly).unwrap(), "2025-02-07T10:00:00Z");
        // Go normalizes February 31 to March 3.
        assert_eq!(at(RotatePolicy::Monthly).unwrap(), "2025-03-03T10:00:00Z");
        assert_eq!(at(RotatePolicy::Quarterly).unwrap(), "2025-05-01T10:00:00Z");
        assert_eq!(at(RotatePolicy::Yearly).unwrap(), "2026-01-31T10:00:00Z");
    }
}
