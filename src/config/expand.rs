//! `${NAME}` expansion: every string in the file may name environment variables, looked
//! up through a function so tests pass a map and never touch the process environment.

use std::collections::BTreeSet;

use super::error::{ConfigError, invalid};

/// Replaces every `${NAME}` in the strings of `value` through `lookup`, naming `key` (the
/// path of `value`) in errors. Every non-empty value filled in is added to `secrets`, so
/// later messages can be scrubbed of them.
pub(super) fn expand(
    value: &mut toml::Value,
    key: &str,
    lookup: &impl Fn(&str) -> Option<String>,
    secrets: &mut BTreeSet<String>,
) -> Result<(), ConfigError> {
    match value {
        toml::Value::String(text) => *text = expand_str(text, key, lookup, secrets)?,
        toml::Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                expand(item, &format!("{key}[{index}]"), lookup, secrets)?;
            }
        }
        toml::Value::Table(table) => {
            for (name, item) in table.iter_mut() {
                let path = if key.is_empty() {
                    name.clone()
                } else {
                    format!("{key}.{name}")
                };
                expand(item, &path, lookup, secrets)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn expand_str(
    text: &str,
    key: &str,
    lookup: &impl Fn(&str) -> Option<String>,
    secrets: &mut BTreeSet<String>,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| invalid(key, "`${` without a closing `}`"))?;
        let var = &after[..end];
        let valid = !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(invalid(
                key,
                format!("`${{{}}}` is not a variable name", var.escape_default()),
            ));
        }
        let found = lookup(var).ok_or_else(|| ConfigError::MissingVariable {
            key: key.to_owned(),
            var: var.to_owned(),
        })?;
        if !found.is_empty() {
            secrets.insert(found.clone());
        }
        out.push_str(&found);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::super::testing::{EXAMPLE, error_of};

    #[test]
    fn parse_names_the_variable_and_key_when_a_variable_is_missing() {
        let err = Config::parse(EXAMPLE, |name| {
            (name != "UDESK_API_TOKEN").then(|| "x".repeat(20))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("UDESK_API_TOKEN"), "{err}");
        assert!(err.contains("sources[2].api_token"), "{err}");
    }

    #[test]
    fn parse_never_echoes_an_expanded_secret_in_a_type_error() {
        let err = error_of("[server]\nrequest_timeout_ms = \"${SECRET}\"\n");
        assert!(err.contains("server.request_timeout_ms"), "{err}");
        assert!(!err.contains("secret-value-of-SECRET"), "{err}");
    }
}
