//! Time conversions vendors need: naive local times in a source's zone, epoch milliseconds.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
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
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|local| local.with_timezone(&Utc))
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
    fn parse_local_refuses_garbage() {
        assert!(parse_local("yesterday", chrono_tz::UTC).is_none());
    }
}
