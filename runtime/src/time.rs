//! UTC timestamps in the form the signatures use: `YYYY-MM-DDTHH:MM:SSZ`, and parsing of the
//! ISO-8601 expirations that STS, ECS metadata and credentials URIs return.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats `t` (truncated to whole seconds) as `YYYY-MM-DDTHH:MM:SSZ` in UTC.
pub(crate) fn format_utc(t: SystemTime) -> String {
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        // Before 1970: round towards negative infinity so the second is right.
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 { -whole.saturating_add(1) } else { -whole }
        }
    };
    format_unix_seconds(secs)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
pub(crate) fn format_unix_seconds(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Parses an ISO-8601 / RFC 3339 UTC timestamp: `YYYY-MM-DDTHH:MM:SSZ`, optionally with a
/// fraction of a second (`.123`), a lowercase `t`/`z`, a space for `T`, or a numeric offset
/// (`+08:00`, `-0500`, `+00:00`) instead of `Z`. Returns `None` for anything else or for dates
/// before 1970.
pub(crate) fn parse_utc(s: &str) -> Option<SystemTime> {
    let b = s.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        for (i, d) in frac[..len].iter().take(9).enumerate() {
            nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[len..];
    }
    let offset: i64 = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let tail: Vec<u8> = tail.iter().copied().filter(|c| *c != b':').collect();
            if tail.len() != 4 || !tail.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let hh = i64::from(tail[0] - b'0') * 10 + i64::from(tail[1] - b'0');
            let mm = i64::from(tail[2] - b'0') * 10 + i64::from(tail[3] - b'0');
            if hh > 23 || mm > 59 {
                return None;
            }
            let off = hh * 3600 + mm * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// (year, month, day) to days since 1970-01-01; Howard Hinnant's `days_from_civil` algorithm.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = if month > 2 { month - 3 } else { month + 9 }; // [0, 11]
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days` algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both values are within u32 by construction.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_instants() {
        assert_eq!(format_unix_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix_seconds(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_unix_seconds(951_868_799), "2000-02-29T23:59:59Z");
        assert_eq!(format_unix_seconds(1_456_231_584), "2016-02-23T12:46:24Z");
        assert_eq!(format_unix_seconds(1_698_315_752), "2023-10-26T10:22:32Z");
        assert_eq!(format_unix_seconds(1_795_624_433), "2026-11-25T16:33:53Z");
        assert_eq!(format_unix_seconds(4_102_444_800), "2100-01-01T00:00:00Z");
        assert_eq!(format_unix_seconds(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(format_unix_seconds(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_unix_seconds(-86_400 * 365), "1969-01-01T00:00:00Z");
    }

    #[test]
    fn system_time() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_624_433_999);
        assert_eq!(format_utc(t), "2026-11-25T16:33:53Z");
        let before = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(format_utc(before), "1969-12-31T23:59:59Z");
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(format_utc(before), "1969-12-31T23:59:59Z");
        assert_eq!(format_utc(SystemTime::now()).len(), 20);
    }

    #[test]
    fn every_day_for_four_centuries_is_consecutive() {
        // Walk day by day from 1900 to 2300 and check the date always advances by exactly one day.
        let start = -25_567; // 1900-01-01
        let mut prev = civil_from_days(start);
        assert_eq!(prev, (1900, 1, 1));
        for d in start + 1..start + 146_097 {
            let cur = civil_from_days(d);
            let days_in_month = match prev.1 {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                _ if (prev.0 % 4 == 0 && prev.0 % 100 != 0) || prev.0 % 400 == 0 => 29,
                _ => 28,
            };
            let expected = if prev.2 < days_in_month {
                (prev.0, prev.1, prev.2 + 1)
            } else if prev.1 < 12 {
                (prev.0, prev.1 + 1, 1)
            } else {
                (prev.0 + 1, 1, 1)
            };
            assert_eq!(cur, expected, "day {d}");
            prev = cur;
        }
    }

    #[test]
    fn parses_what_it_formats() {
        for secs in [0i64, 951_782_400, 1_456_231_584, 1_795_624_433, 4_102_444_800, 253_402_300_799] {
            let text = format_unix_seconds(secs);
            let parsed = parse_utc(&text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(parsed, UNIX_EPOCH + Duration::from_secs(secs as u64), "{text}");
        }
        let d = 1_795_624_433u64;
        let at = |s: &str| parse_utc(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap());
        assert_eq!(at("2026-11-25T16:33:53Z"), Some(Duration::from_secs(d)));
        assert_eq!(at(" 2026-11-25t16:33:53z "), Some(Duration::from_secs(d)));
        assert_eq!(at("2026-11-25 16:33:53Z"), Some(Duration::from_secs(d)));
        assert_eq!(at("2026-11-25T16:33:53.250Z"), Some(Duration::new(d, 250_000_000)));
        assert_eq!(at("2026-11-25T16:33:53.1234567891Z"), Some(Duration::new(d, 123_456_789)));
        assert_eq!(at("2026-11-25T16:33:53+00:00"), Some(Duration::from_secs(d)));
        assert_eq!(at("2026-11-26T00:33:53+08:00"), Some(Duration::from_secs(d)));
        assert_eq!(at("2026-11-25T11:33:53-0500"), Some(Duration::from_secs(d)));
        // Every day of four centuries round-trips.
        for day in (0..146_097i64).step_by(7) {
            let text = format_unix_seconds(day * 86_400 + 3723);
            assert_eq!(at(&text), Some(Duration::from_secs((day * 86_400 + 3723) as u64)), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2026-11-25",
            "2026-11-25T16:33:53",
            "2026-11-25T16:33:53ZZ",
            "2026-13-25T16:33:53Z",
            "2026-02-29T16:33:53Z",
            "2026-11-31T16:33:53Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T16:60:00Z",
            "2026-11-25T16:33:53.Z",
            "2026-11-25T16:33:53+8:00",
            "2026-11-25T16:33:53+08:0a",
            "20261125T163353Z",
            "2026-11-25X16:33:53Z",
            "1969-12-31T23:59:59Z",
            "+026-11-25T16:33:53Z",
            "2026-1\u{e9}-25T16:33:53Z",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad:?}");
        }
        assert!(parse_utc("2024-02-29T00:00:00Z").is_some());
        assert!(parse_utc("2000-02-29T00:00:00Z").is_some());
        assert!(parse_utc("1900-02-29T00:00:00Z").is_none());
    }

    #[test]
    fn extremes_do_not_panic() {
        let _ = format_unix_seconds(i64::MAX);
        let _ = format_unix_seconds(i64::MIN);
    }
}
