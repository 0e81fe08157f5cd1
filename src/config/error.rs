//! The one error of start-up: a configuration problem, naming the key it is about.

/// A configuration problem, naming the key it is about. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML.
    #[error("config file is not valid TOML: {0}")]
    Syntax(String),
    /// `${NAME}` names a variable that is not set.
    #[error("`{key}` uses ${{{var}}}, but the environment variable {var} is not set")]
    MissingVariable {
        /// The key whose value names it.
        key: String,
        /// The variable.
        var: String,
    },
    /// A key has a bad value, is missing, or is not known.
    #[error("`{key}`: {message}")]
    Invalid {
        /// The key path, e.g. `sources[1].api_token`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// `key` has a bad value, is missing, or is not known.
pub(super) fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}
