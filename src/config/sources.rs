//! `[[sources]]`: the keys every source has (name, vendor, base URL, timeout, zone, quota,
//! reads) are read here; the rest of each entry is handed to its vendor's own
//! `config.rs`, through [`vendor_config`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::error::{ConfigError, invalid};
use super::store::{RawRateLimit, rate_limit};
use super::{millis, within};
use crate::domain::{InvalidId, SourceName, VendorKind};
use crate::vendors::config::key_names;
use crate::vendors::reads::{
    DEFAULT_MAX_CONCURRENT_READS, DEFAULT_MAX_ITEMS_PER_READ, MAX_CONCURRENT_READS,
    MAX_ITEMS_PER_READ,
};
use crate::vendors::vendor_config;
pub use crate::vendors::{SourceConfig, VendorSettings};

/// Default time limit of one vendor call.
pub const DEFAULT_SOURCE_TIMEOUT: Duration = Duration::from_secs(8);

/// The keys every source takes, whatever its vendor.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Option<String>,
    vendor: Option<String>,
    base_url: Option<String>,
    timeout_ms: Option<u64>,
    timezone: Option<String>,
    rate_limit: Option<RawRateLimit>,
    max_concurrent_reads: Option<usize>,
    max_items_per_read: Option<usize>,
}

/// One `[[sources]]` entry whose keys are all known and whose common keys have the right
/// types: `raw` holds those, `vendor_keys` the rest.
pub(super) struct Entry {
    raw: RawSource,
    vendor_keys: toml::Table,
}

/// Checks the shape of every entry: an unknown key or a value of the wrong type among the
/// common keys. Run before any value is checked, so such mistakes are reported first, as
/// serde reports them in the rest of the file.
pub(super) fn entries(
    tables: Vec<toml::Table>,
    secrets: &BTreeSet<String>,
) -> Result<Vec<Entry>, ConfigError> {
    let known = known_keys();
    let mut entries = Vec::with_capacity(tables.len());
    for (index, mut table) in tables.into_iter().enumerate() {
        // A key no vendor takes is refused listing every key a source may have.
        if let Some(unknown) = table.keys().find(|name| !known.contains(&name.as_str())) {
            return Err(invalid(
                format!("sources[{index}].{unknown}"),
                format!(
                    "unknown field `{unknown}`, expected one of {}\nin `sources`\n",
                    known
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut common = toml::Table::new();
        for name in key_names::<RawSource>() {
            if let Some(value) = table.remove(*name) {
                common.insert((*name).to_owned(), value);
            }
        }
        let raw = serde_path_to_error::deserialize(toml::Value::Table(common)).map_err(|err| {
            let at = err.path().to_string();
            in_file(index, &at, err.into_inner().to_string(), secrets)
        })?;
        entries.push(Entry {
            raw,
            vendor_keys: table,
        });
    }
    Ok(entries)
}

/// Reads every `[[sources]]` entry, in file order, refusing a name used twice. `secrets`
/// are the values `${NAME}` filled in, kept out of every message.
pub(super) fn sources(
    entries: Vec<Entry>,
    secrets: &BTreeSet<String>,
) -> Result<Vec<SourceConfig>, ConfigError> {
    let mut names = BTreeMap::new();
    let mut sources = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let source = source(entry, index, secrets)?;
        if let Some(first) = names.insert(source.name.clone(), index) {
            return Err(invalid(
                format!("sources[{index}].name"),
                format!("`{}` is already the name of sources[{first}]", source.name),
            ));
        }
        sources.push(source);
    }
    Ok(sources)
}

fn source(
    entry: Entry,
    index: usize,
    secrets: &BTreeSet<String>,
) -> Result<SourceConfig, ConfigError> {
    let key = |field: &str| format!("sources[{index}].{field}");
    let Entry { raw, vendor_keys } = entry;
    let name: SourceName = raw
        .name
        .as_deref()
        .ok_or_else(|| invalid(key("name"), "is required"))?
        .parse()
        .map_err(|err: InvalidId| invalid(key("name"), err.0))?;
    let vendor: VendorKind = raw
        .vendor
        .as_deref()
        .ok_or_else(|| invalid(key("vendor"), "is required"))?
        .parse()
        .map_err(|err: InvalidId| invalid(key("vendor"), err.0))?;
    let base_url_text = raw
        .base_url
        .as_deref()
        .ok_or_else(|| invalid(key("base_url"), "is required"))?;
    let base_url = Url::parse(base_url_text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .ok_or_else(|| invalid(key("base_url"), "is not an http(s) URL"))?;
    let timeout = millis(
        raw.timeout_ms,
        &key("timeout_ms"),
        DEFAULT_SOURCE_TIMEOUT,
        false,
    )?;
    let timezone = match raw.timezone.as_deref() {
        None => chrono_tz::Asia::Shanghai,
        Some(zone) => zone.parse().map_err(|_| {
            invalid(
                key("timezone"),
                format!("`{zone}` is not an IANA time zone"),
            )
        })?,
    };
    let vendor_config = vendor_config(vendor);
    let rate_limit = rate_limit(
        raw.rate_limit,
        vendor_config.default_tier,
        &key("rate_limit"),
    )?;

    let max_concurrent_reads = within(
        raw.max_concurrent_reads,
        &key("max_concurrent_reads"),
        DEFAULT_MAX_CONCURRENT_READS,
        1..=MAX_CONCURRENT_READS,
    )?;
    let max_items_per_read = within(
        raw.max_items_per_read,
        &key("max_items_per_read"),
        DEFAULT_MAX_ITEMS_PER_READ,
        1..=MAX_ITEMS_PER_READ,
    )?;

    // What is left is the vendor's part. Another vendor's keys are set aside and refused
    // once the vendor's own keys have been checked.
    let (own, foreign): (toml::Table, toml::Table) = vendor_keys
        .into_iter()
        .partition(|(name, _)| vendor_config.keys.contains(&name.as_str()));
    let settings =
        (vendor_config.read)(own).map_err(|err| in_file(index, &err.key, err.message, secrets))?;
    if let Some(field) = foreign.keys().next() {
        return Err(invalid(
            key(field),
            format!("is not a setting of vendor `{vendor}`"),
        ));
    }
    Ok(SourceConfig {
        name,
        base_url,
        timeout,
        timezone,
        rate_limit,
        max_concurrent_reads,
        max_items_per_read,
        vendor: settings,
    })
}

/// Every key a source may have: the common ones, then each vendor's.
fn known_keys() -> Vec<&'static str> {
    let mut known = key_names::<RawSource>().to_vec();
    for kind in VendorKind::ALL {
        for name in vendor_config(kind).keys {
            if !known.contains(name) {
                known.push(name);
            }
        }
    }
    known
}

/// An error about key `at` of source `index`, scrubbed of `secrets` (a serde message may
/// quote the value). serde's messages name the key as `in `<key>``; they are given the
/// `sources.` the whole-file parse would have put before it.
fn in_file(index: usize, at: &str, message: String, secrets: &BTreeSet<String>) -> ConfigError {
    let mut message = message.replacen("\nin `", "\nin `sources.", 1);
    for secret in secrets {
        message = message.replace(secret.as_str(), "[redacted]");
    }
    invalid(format!("sources[{index}].{at}"), message)
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::super::testing::{env, error_of};

    #[test]
    fn parse_names_the_key_of_a_missing_vendor_setting() {
        let err = error_of(
            "[[sources]]\nname = \"a\"\nvendor = \"udesk\"\nbase_url = \"http://x\"\nemail = \"a@b\"\nrobot_id = 1\n",
        );
        assert!(err.contains("sources[0].api_token"), "{err}");
    }

    #[test]
    fn parse_refuses_settings_of_another_vendor() {
        let err = error_of(
            "[[sources]]\nname = \"a\"\nvendor = \"jijyun\"\nbase_url = \"http://x\"\napi_key = \"k\"\nrobot_id = 1\n",
        );
        assert!(err.contains("sources[0].robot_id"), "{err}");
    }

    #[test]
    fn parse_refuses_duplicate_names_unknown_keys_and_bad_values() {
        let dup = "[[sources]]\nname = \"a\"\nvendor = \"jijyun\"\nbase_url = \"http://x\"\napi_key = \"k\"\n";
        assert!(error_of(&format!("{dup}{dup}")).contains("sources[1].name"));
        assert!(error_of("[server]\nlisten_on = 1\n").contains("listen_on"));
        assert!(
            error_of("[server]\nrequest_timeout_ms = 0\n").contains("server.request_timeout_ms")
        );
        assert!(error_of(&dup.replace("http://x", "ftp://x")).contains("sources[0].base_url"));
        assert!(
            error_of(&format!("{dup}timezone = \"Mars/Base\"\n")).contains("sources[0].timezone")
        );
        assert!(
            error_of(&format!("{dup}rate_limit = {{ tier = \"fast\" }}\n"))
                .contains("rate_limit.tier")
        );
        assert!(error_of(&dup.replace("\"a\"", "\"A b\"")).contains("sources[0].name"));
    }

    #[test]
    fn read_limits_have_defaults_and_must_be_from_one_to_their_maximum() {
        let source = "[[sources]]\nname = \"a\"\nvendor = \"jijyun\"\nbase_url = \"http://x\"\napi_key = \"k\"\n";
        let config = Config::parse(source, env).unwrap();
        assert_eq!(config.sources[0].max_concurrent_reads, 16);
        let config = Config::parse(&format!("{source}max_concurrent_reads = 3\n"), env).unwrap();
        assert_eq!(config.sources[0].max_concurrent_reads, 3);
        assert!(config.redacted_summary().contains("max_concurrent_reads=3"));
        for refused in ["0", "4097", "-1"] {
            let err = error_of(&format!("{source}max_concurrent_reads = {refused}\n"));
            assert!(err.contains("sources[0].max_concurrent_reads"), "{err}");
        }
        assert_eq!(config.sources[0].max_items_per_read, 10_000);
        let config = Config::parse(&format!("{source}max_items_per_read = 500\n"), env).unwrap();
        assert_eq!(config.sources[0].max_items_per_read, 500);
        assert!(config.redacted_summary().contains("max_items_per_read=500"));
        for refused in ["0", "1000001"] {
            let err = error_of(&format!("{source}max_items_per_read = {refused}\n"));
            assert!(err.contains("sources[0].max_items_per_read"), "{err}");
        }
    }

    #[test]
    fn explicit_rate_limit_overrides_the_tier() {
        let config = Config::parse(
            "[[sources]]\nname = \"a\"\nvendor = \"gptbots\"\nbase_url = \"http://x\"\napi_key = \"k\"\nrate_limit = { per_second = 3, burst = 7 }\n",
            env,
        )
        .unwrap();
        assert_eq!(config.sources[0].rate_limit.per_second.get(), 3);
        assert_eq!(config.sources[0].rate_limit.burst.get(), 7);
    }
}
