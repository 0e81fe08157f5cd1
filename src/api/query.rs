//! Reads query strings strictly: unknown, repeated or malformed parameters are a 400 that
//! names the parameter, never silently ignored or clamped.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::error::ApiError;

/// A query string split into parameters, each with every value it was given.
pub struct QueryParams {
    values: BTreeMap<String, Vec<String>>,
}

impl QueryParams {
    /// Splits `raw` (without `?`), accepting only the parameters in `known`.
    pub fn parse(raw: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !known.contains(&name.as_ref()) {
                return Err(ApiError::InvalidParameter {
                    name: truncate(&name),
                    message: format!(
                        "is not a parameter of this operation (known: {})",
                        known.join(", ")
                    ),
                });
            }
            values
                .entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Ok(Self { values })
    }

    /// A parameter that may appear at most once; empty counts as absent.
    pub fn single(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.values.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(one.as_str()).filter(|value| !value.is_empty())),
            Some(_) => Err(ApiError::InvalidParameter {
                name: name.to_owned(),
                message: "may be given only once".to_owned(),
            }),
        }
    }

    /// A parameter that may be repeated or comma-separated; empty items are ignored.
    pub fn list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let mut items = Vec::new();
        for item in self
            .values
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|value| value.split(','))
        {
            let item = item.trim();
            if item.is_empty() {
                return Err(ApiError::InvalidParameter {
                    name: name.to_owned(),
                    message: "has an empty value (give names, repeated or separated by commas)"
                        .to_owned(),
                });
            }
            items.push(item.to_owned());
        }
        items.sort();
        items.dedup();
        Ok(items)
    }

    /// Refuses `name` given with an empty value, where an empty value is no value of its type.
    fn refuse_empty(&self, name: &str, expected: &str) -> Result<(), ApiError> {
        if self
            .values
            .get(name)
            .is_some_and(|values| values.iter().any(|value| value.trim().is_empty()))
        {
            return Err(ApiError::InvalidParameter {
                name: name.to_owned(),
                message: format!("must be {expected}, got an empty value"),
            });
        }
        Ok(())
    }

    /// `page_size` in `1..=max`, or `default`.
    pub fn page_size(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        self.refuse_empty("page_size", &format!("a whole number from 1 to {max}"))?;
        let Some(raw) = self.single("page_size")? else {
            return Ok(default);
        };
        raw.parse::<usize>()
            .ok()
            .filter(|size| (1..=max).contains(size))
            .ok_or_else(|| ApiError::InvalidParameter {
                name: "page_size".to_owned(),
                message: format!(
                    "must be a whole number from 1 to {max}, got `{}`",
                    truncate(raw)
                ),
            })
    }

    /// An RFC 3339 time with offset.
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.refuse_empty(name, "an RFC 3339 time with offset")?;
        let Some(raw) = self.single(name)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(raw)
            .map(|time| Some(time.with_timezone(&Utc)))
            .map_err(|_| ApiError::InvalidParameter {
                name: name.to_owned(),
                message: format!(
                    "must be an RFC 3339 time with offset, e.g. 2025-08-11T12:00:00+08:00; got `{}`",
                    truncate(raw)
                ),
            })
    }

    /// Whether `include=vendor_data` was given (any other `include` value is refused).
    pub fn include_vendor_data(&self) -> Result<bool, ApiError> {
        self.refuse_empty("include", "`vendor_data`")?;
        let mut wanted = false;
        for item in self.list("include")? {
            if item != "vendor_data" {
                return Err(ApiError::InvalidParameter {
                    name: "include".to_owned(),
                    message: format!("the only value is `vendor_data`, got `{}`", truncate(&item)),
                });
            }
            wanted = true;
        }
        Ok(wanted)
    }
}

/// Caps echoed client input, so an error never reflects a huge value back.
fn truncate(raw: &str) -> String {
    const MAX: usize = 64;
    match raw.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", raw[..cut].escape_default()),
        None => raw.escape_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["source", "page_size", "since", "include"];

    #[test]
    fn list_accepts_repeated_and_comma_separated_values() {
        let params = QueryParams::parse(Some("source=b,a&source=c&source=a"), KNOWN).unwrap();
        assert_eq!(params.list("source").unwrap(), ["a", "b", "c"]);
    }

    #[test]
    fn list_refuses_empty_values() {
        for raw in ["source=", "source=a,,b", "source=a&source=%20"] {
            let params = QueryParams::parse(Some(raw), KNOWN).unwrap();
            assert!(params.list("source").is_err(), "{raw}");
        }
    }

    #[test]
    fn parse_refuses_unknown_parameters_by_name() {
        let err = QueryParams::parse(Some("pagesize=5"), KNOWN).err().unwrap();
        assert!(err.to_string().contains("pagesize"), "{err}");
    }

    #[test]
    fn page_size_refuses_out_of_range_values_instead_of_clamping() {
        for raw in [
            "page_size=0",
            "page_size=101",
            "page_size=-1",
            "page_size=abc",
            "page_size=1&page_size=2",
        ] {
            let params = QueryParams::parse(Some(raw), KNOWN).unwrap();
            assert!(params.page_size(20, 100).is_err(), "{raw}");
        }
        let params = QueryParams::parse(Some("page_size=100"), KNOWN).unwrap();
        assert_eq!(params.page_size(20, 100).unwrap(), 100);
    }

    #[test]
    fn empty_times_sizes_and_includes_are_refused_not_defaulted() {
        for (query, name) in [
            ("until=", "until"),
            ("page_size=", "page_size"),
            ("include=", "include"),
        ] {
            let params =
                QueryParams::parse(Some(query), &["until", "page_size", "include"]).unwrap();
            let err = match name {
                "until" => params.time(name).unwrap_err(),
                "page_size" => params.page_size(20, 100).unwrap_err(),
                _ => params.include_vendor_data().unwrap_err(),
            };
            assert!(
                matches!(&err, ApiError::InvalidParameter { name: got, .. } if got == name),
                "{query}: {err:?}"
            );
        }
    }

    #[test]
    fn time_requires_an_offset() {
        let params = QueryParams::parse(Some("since=2025-08-11T12:00:00"), KNOWN).unwrap();
        assert!(params.time("since").is_err());
        let params = QueryParams::parse(Some("since=2025-08-11T12:00:00%2B08:00"), KNOWN).unwrap();
        assert_eq!(
            params.time("since").unwrap().unwrap().to_rfc3339(),
            "2025-08-11T04:00:00+00:00"
        );
    }

    #[test]
    fn errors_never_echo_more_than_a_short_prefix_of_the_input() {
        let long = "x".repeat(10_000);
        let params = QueryParams::parse(Some(&format!("page_size={long}")), KNOWN).unwrap();
        let err = params.page_size(20, 100).unwrap_err().to_string();
        assert!(err.len() < 300, "{}", err.len());
    }
}
