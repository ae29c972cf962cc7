//! A strict RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS(.fff)?(Z|±HH:MM)`, to
//! and from unix milliseconds. Fractions beyond milliseconds are truncated;
//! leap seconds are refused.

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

const EXPECTED: &str = "must be an RFC 3339 date-time such as \"2025-11-28T09:00:00Z\"";

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &d| d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0')))
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix milliseconds of an RFC 3339 date-time.
pub fn parse(s: &str) -> Result<i64, String> {
    parse_inner(s.as_bytes()).ok_or_else(|| EXPECTED.to_owned())
}

fn parse_inner(b: &[u8]) -> Option<i64> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, sec) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        // Milliseconds from the first three digits, padded: ".5" is 500.
        ms = (0..3).fold(0, |acc, i| acc * 10 + if i < n { i64::from(frac[i] - b'0') } else { 0 });
        rest = &frac[n..];
    }
    let offset_minutes = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            if *sign == b'-' { -(oh * 60 + om) } else { oh * 60 + om }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_minutes * 60;
    Some(secs * 1000 + ms)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` of unix milliseconds.
pub fn format(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    // Always with milliseconds: one width, so times sort as text.
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}Z")
}

/// Writes unix milliseconds as an RFC 3339 date-time: every timestamp of
/// the API is kept as milliseconds and sent this way.
pub fn serialize<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*v))
}

/// [`serialize`] for a timestamp that may be absent (`null`).
pub fn serialize_opt<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(ms) => s.serialize_str(&format(*ms)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_strictly() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse("1970-01-01t00:00:00.5z"), Ok(500));
        assert_eq!(parse("1970-01-01T00:00:00.123456789Z"), Ok(123), "truncated to milliseconds");
        assert_eq!(parse("2000-03-01T00:00:00Z"), Ok(951_868_800_000));
        assert_eq!(parse("2024-02-29T12:30:15+02:00"), Ok(1_709_202_615_000));
        assert_eq!(parse("2024-02-29T10:30:15Z"), parse("2024-02-29T12:30:15+02:00"));
        assert_eq!(parse("2024-02-29T05:30:15-05:00"), parse("2024-02-29T10:30:15Z"));
        assert_eq!(parse("1969-12-31T23:59:59.999Z"), Ok(-1));
        for bad in [
            "",
            "2024-02-29",
            "2024-02-29T10:30:15",
            "2024-02-29 10:30:15Z",
            "2023-02-29T10:30:15Z",
            "2024-13-01T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+0200",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00Z ",
            "+2024-01-01T00:00:00Z",
            "2024-1-01T00:00:00Z",
            "２０２４-01-01T00:00:00Z",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn rfc3339_formats_in_utc_and_round_trips() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format(1_709_202_615_042), "2024-02-29T10:30:15.042Z");
        for ms in [0, 1, -86_400_001, 951_868_800_000, 4_102_444_799_999, -62_135_596_800_000] {
            assert_eq!(parse(&format(ms)), Ok(ms), "{ms}");
        }
    }
}
