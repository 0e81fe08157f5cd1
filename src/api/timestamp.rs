//! Instants as the API writes them (RFC 3339, UTC, `Z`), spelled digit by digit.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

/// `#[serde(serialize_with)]` for an optional instant: the text chrono's own `Serialize`
/// writes (seconds, then milli-, micro- or nanoseconds only as far as they are not zero),
/// at a fifth of its cost. chrono formats through `fmt` one piece at a time, which was
/// about 200 ns an instant, and a page writes up to three per conversation.
pub(super) fn serialize<S: Serializer>(
    instant: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match instant {
        Some(instant) => {
            let mut text = [0; MAX_LEN];
            match write(instant, &mut text) {
                Some(len) => serializer.serialize_str(ascii(&text[..len])),
                // Years outside 0000–9999 and leap seconds, which no vendor sends.
                None => {
                    serializer.serialize_str(&instant.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                }
            }
        }
        None => serializer.serialize_none(),
    }
}

/// `2026-12-03T14:48:35.123456789Z`.
const MAX_LEN: usize = 30;

/// Writes `instant` into `out`, returning its length; `None` where the fixed layout does
/// not fit (a year beyond four digits, a leap second).
fn write(instant: &DateTime<Utc>, out: &mut [u8; MAX_LEN]) -> Option<usize> {
    let (date, time) = (instant.date_naive(), instant.time());
    let year = u32::try_from(date.year())
        .ok()
        .filter(|year| *year <= 9999)?;
    let nanos = Some(time.nanosecond()).filter(|nanos| *nanos < 1_000_000_000)?;
    digits(&mut out[0..4], year);
    out[4] = b'-';
    digits(&mut out[5..7], date.month());
    out[7] = b'-';
    digits(&mut out[8..10], date.day());
    out[10] = b'T';
    digits(&mut out[11..13], time.hour());
    out[13] = b':';
    digits(&mut out[14..16], time.minute());
    out[16] = b':';
    digits(&mut out[17..19], time.second());
    let mut len = 19;
    let (places, fraction) = match nanos {
        0 => (0, 0),
        _ if nanos % 1_000_000 == 0 => (3, nanos / 1_000_000),
        _ if nanos % 1_000 == 0 => (6, nanos / 1_000),
        _ => (9, nanos),
    };
    if places > 0 {
        out[len] = b'.';
        digits(&mut out[len + 1..len + 1 + places], fraction);
        len += 1 + places;
    }
    out[len] = b'Z';
    Some(len + 1)
}

/// `value` in decimal, zero-padded to fill `out`.
fn digits(out: &mut [u8], mut value: u32) {
    for place in out.iter_mut().rev() {
        *place = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The text `write` wrote: ASCII digits and separators only.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "serialize")] Option<DateTime<Utc>>);

    fn both(instant: DateTime<Utc>) -> (String, String) {
        (
            serde_json::to_string(&Fast(Some(instant))).unwrap(),
            serde_json::to_string(&instant).unwrap(),
        )
    }

    #[test]
    fn writes_what_chrono_writes_at_every_precision_and_edge() {
        let base = Utc.with_ymd_and_hms(2026, 12, 3, 14, 48, 35).unwrap();
        for nanos in [
            0,
            1,
            10,
            123_000,
            123_000_000,
            100_000_000,
            999_999_999,
            5_000,
        ] {
            let (fast, chrono) = both(base + chrono::TimeDelta::nanoseconds(nanos));
            assert_eq!(fast, chrono);
        }
        for instant in [
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
        ] {
            let (fast, chrono) = both(instant);
            assert_eq!(fast, chrono);
        }
        assert_eq!(serde_json::to_string(&Fast(None)).unwrap(), "null");
    }

    proptest! {
        #[test]
        fn writes_what_chrono_writes(seconds in -62_135_596_800_i64..253_402_300_800, nanos in 0u32..1_000_000_000, round in 0usize..4) {
            let nanos = [nanos, nanos / 1_000 * 1_000, nanos / 1_000_000 * 1_000_000, 0][round];
            let instant = DateTime::from_timestamp(seconds, nanos).unwrap();
            let (fast, chrono) = both(instant);
            prop_assert_eq!(fast, chrono);
        }
    }
}
