//! Typed configuration from flags and the environment, with defaults that
//! run out of the box. Secrets live in [`Secret`], which never prints.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where the host keeps its files (`MERCATO_DATA_DIR`, default `./data`).
pub fn data_dir() -> PathBuf {
    std::env::var_os("MERCATO_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data"))
}

/// Compiled plugins cached across restarts.
pub fn component_cache_dir() -> PathBuf {
    data_dir().join("component-cache")
}

/// The embedded database used when no URL is given.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("mercato.db").display())
}

/// A value that must never reach a log.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret so it is never printed by `Debug`.
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The operator key's hash: from the given key, else from the data
/// directory, else a new key is generated, its hash stored and the key
/// returned so it can be printed exactly once.
pub fn operator_key(given: Option<&Secret>, data_dir: &Path) -> anyhow::Result<([u8; 32], Option<Secret>)> {
    use sha2::{Digest, Sha256};
    if let Some(key) = given {
        return Ok((Sha256::digest(key.expose().as_bytes()).into(), None));
    }
    let path = data_dir.join("operator-key.sha256");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let bytes = hex::decode(text.trim()).context("operator-key.sha256 is not hex")?;
        let hash: [u8; 32] =
            bytes.try_into().map_err(|_| anyhow::anyhow!("operator-key.sha256 is not a sha256"))?;
        return Ok((hash, None));
    }
    let key = Secret::new(crate::commerce::ids::new_secret("op"));
    let hash: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(&path, hex::encode(hash)).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((hash, Some(key)))
}
