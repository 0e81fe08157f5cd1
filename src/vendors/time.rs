//! Time conversions vendors need: naive local times in a source's zone, epoch milliseconds.

use chrono::format::{self, Fixed, Item, Numeric, Pad, Parsed};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// `2025-08-11 12:00:00`.
pub const SPACE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
/// `2022-09-14T09:56:08`.
pub const T_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Reads a zone-less time (`YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`, optional
/// fraction) as a wall-clock time in `zone`. An RFC 3339 time with an offset is read as is.
/// A time that falls in a DST gap is refused; an ambiguous one takes the earlier instant.
pub fn parse_local(raw: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    match plain_naive(raw) {
        Some(naive) => in_zone(&naive, zone),
        None => parse_general(raw, zone),
    }
}

/// [`parse_local`] by chrono's readers alone: RFC 3339 first, then the formats.
fn parse_general(raw: &str, zone: Tz) -> Option<DateTime<Utc>> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.with_timezone(&Utc));
    }
    in_zone(
        &naive_with(raw, " ").or_else(|| naive_with(raw, "T"))?,
        zone,
    )
}

/// A wall-clock time in `zone` as an instant: refused in a DST gap, the earlier one when
/// ambiguous.
fn in_zone(naive: &NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(naive)
        .earliest()
        .map(|local| local.with_timezone(&Utc))
}

/// The shape vendors actually send, `YYYY-MM-DD HH:MM:SS` (or with a `T`, and a fraction of
/// one to nine digits), read digit by digit; `None` for anything else, which the general
/// readers then try. Those make two attempts per time (RFC 3339, then the format), and took
/// 5.7% of the gateway's CPU on a Megaview page where this takes 1.1%.
fn plain_naive(raw: &str) -> Option<NaiveDateTime> {
    let bytes = raw.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b' ' | b'T')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| {
        bytes[range].iter().try_fold(0u32, |value, byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let nanosecond = match &bytes[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(20..bytes.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(0..4)?).ok()?,
        digits(5..7)?,
        digits(8..10)?,
    )?;
    let second = digits(17..19)?;
    if second >= 60 {
        // A leap second, or nonsense: chrono's own reading decides.
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(digits(11..13)?, digits(14..16)?, second, nanosecond)?;
    Some(date.and_time(time))
}

/// `raw` as `%Y-%m-%d{separator}%H:%M:%S%.f`. The items are spelled out rather than read
/// from a format string each time: that reading was most of a Megaview page's time parsing.
fn naive_with(raw: &str, separator: &'static str) -> Option<NaiveDateTime> {
    let items = [
        Item::Numeric(Numeric::Year, Pad::Zero),
        Item::Literal("-"),
        Item::Numeric(Numeric::Month, Pad::Zero),
        Item::Literal("-"),
        Item::Numeric(Numeric::Day, Pad::Zero),
        if separator == " " {
            Item::Space(" ")
        } else {
            Item::Literal(separator)
        },
        Item::Numeric(Numeric::Hour, Pad::Zero),
        Item::Literal(":"),
        Item::Numeric(Numeric::Minute, Pad::Zero),
        Item::Literal(":"),
        Item::Numeric(Numeric::Second, Pad::Zero),
        Item::Fixed(Fixed::Nanosecond),
    ];
    let mut parsed = Parsed::new();
    format::parse(&mut parsed, raw, items.iter()).ok()?;
    parsed.to_naive_datetime_with_offset(0).ok()
}

/// Writes `instant` as a wall-clock time in `zone` with `format` (e.g. [`SPACE_FORMAT`]).
pub fn format_local(instant: DateTime<Utc>, zone: Tz, format: &str) -> String {
    instant.with_timezone(&zone).format(format).to_string()
}

/// Reads epoch milliseconds.
pub fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_local_reads_naive_times_in_the_source_zone() {
        let utc = parse_local("2022-09-14T09:56:08", chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(utc.to_rfc3339(), "2022-09-14T01:56:08+00:00");
        let utc = parse_local("2019-11-27 18:41:23", chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(utc.to_rfc3339(), "2019-11-27T10:41:23+00:00");
    }

    #[test]
    fn parse_local_keeps_explicit_offsets() {
        let utc = parse_local("2025-08-11T12:00:00+08:00", chrono_tz::UTC).unwrap();
        assert_eq!(utc.to_rfc3339(), "2025-08-11T04:00:00+00:00");
    }

    #[test]
    fn format_local_writes_wall_clock_time() {
        let instant = from_millis(1_694_572_952_383).unwrap();
        assert_eq!(
            format_local(instant, chrono_tz::Asia::Shanghai, SPACE_FORMAT),
            "2023-09-13 10:42:32"
        );
    }

    #[test]
    fn parse_local_reads_what_the_format_strings_read() {
        let by_format = |raw: &str| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f"))
                .ok()
        };
        for raw in [
            "2022-09-14T09:56:08",
            "2022-09-14 09:56:08",
            "2022-09-14  09:56:08.5",
            "2022-09-14T09:56:08.123456789",
            "2022-9-4 9:5:8",
            "2022-09-14t09:56:08",
            "2022-09-14T09:56",
            "2022-02-30 00:00:00",
            "2022-09-14 24:00:00",
            "+12022-09-14 09:56:08",
            "2022-09-14 09:56:08 ",
            "2022-09-14T09:56:08Z",
            "",
        ] {
            assert_eq!(
                naive_with(raw, " ").or_else(|| naive_with(raw, "T")),
                by_format(raw),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_fast_path_reads_edge_cases_as_chrono_does() {
        for raw in [
            "2022-09-14 09:56:08",
            "2022-09-14T09:56:08.5",
            "2022-09-14T09:56:08.123456789",
            "2022-09-14T09:56:08.1234567891",
            "2022-09-14T09:56:08.",
            "2022-09-14 09:56:60",
            "2022-09-14 09:56:59.999999999",
            "2022-09-14 24:00:00",
            "2024-02-29 00:00:00",
            "2023-02-29 00:00:00",
            "0000-01-01 00:00:00",
            "2022-09-14 09:56:08+08:00",
            "2022-09-14T09:56:08Z",
            "2022-09-14x09:56:08",
            "2022-09-1a 09:56:08",
            "2022-09-14 09:56:08 ",
            "2019-03-10 02:30:00",
            "2019-11-03 01:30:00",
        ] {
            for zone in [chrono_tz::Asia::Shanghai, chrono_tz::America::New_York] {
                assert_eq!(
                    parse_local(raw, zone),
                    parse_general(raw.trim(), zone),
                    "{raw:?} {zone}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_path_reads_what_chrono_reads(
            (year, month, day) in (0u32..=9999, 0u32..=13, 0u32..=32),
            (hour, minute, second) in (0u32..=24, 0u32..=60, 0u32..=61),
            separator in "[ Tt]",
            fraction in "(\\.[0-9]{0,11})?",
            offset in "(Z|[+-][0-9]{2}:[0-9]{2})?",
        ) {
            let raw = format!(
                "{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{offset}"
            );
            for zone in [chrono_tz::Asia::Shanghai, chrono_tz::America::New_York] {
                proptest::prop_assert_eq!(parse_local(&raw, zone), parse_general(&raw, zone), "{}", raw);
            }
        }
    }

    #[test]
    fn parse_local_refuses_garbage() {
        assert!(parse_local("yesterday", chrono_tz::UTC).is_none());
    }
}
