//! UTC timestamps in the form the signatures use: `YYYY-MM-DDTHH:MM:SSZ`.

use std::time::{SystemTime, UNIX_EPOCH};

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
    fn extremes_do_not_panic() {
        let _ = format_unix_seconds(i64::MAX);
        let _ = format_unix_seconds(i64::MIN);
    }
}
