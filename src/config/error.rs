//! Why a configuration cannot be used.

use std::path::PathBuf;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named config file does not exist.
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// figment could not read or convert a value (its message names the key and source).
    #[error("{0}")]
    Extract(#[from] Box<figment::Error>),
    /// A value has the right type but makes no sense.
    #[error("invalid value for `{key}`: {message}")]
    Invalid {
        /// Config key (the environment variable is `MAIIMG_` + key in upper case).
        key: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
}
