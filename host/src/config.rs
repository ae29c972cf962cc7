//! Typed configuration from flags and the environment, with defaults that
//! run out of the box. Secrets live in [`Secret`], which never prints.

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

/// The largest plugin component the operator accepts
/// (`MERCATO_MAX_COMPONENT_MB`, in MiB; default 32).
pub fn max_component_bytes() -> anyhow::Result<u64> {
    match std::env::var("MERCATO_MAX_COMPONENT_MB") {
        Err(_) => Ok(crate::runtime::DEFAULT_MAX_COMPONENT_BYTES),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(mb @ 1..=1024) => Ok(mb << 20),
            _ => anyhow::bail!(
                "MERCATO_MAX_COMPONENT_MB must be a whole number of MiB from 1 to 1024, not {text:?}"
            ),
        },
    }
}

/// The embedded database used when no URL is given.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("mercato.db").display())
}

pub use crate::model::secret::Secret;

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

/// The deployment's secret key, which seals merchants' provider secrets at
/// rest: `given` (`MERCATO_SECRET_KEY`: 32 bytes as 64 hex digits or 43
/// base64url characters), else the one kept in the data directory, else a
/// new one, kept there (mode 0600) and returned so it can be printed once.
/// Every host over one database needs the same key.
pub fn secret_key(given: Option<&Secret>, data_dir: &Path) -> anyhow::Result<([u8; 32], Option<Secret>)> {
    let parse = |text: &str| -> anyhow::Result<[u8; 32]> {
        use base64::Engine as _;
        let text = text.trim();
        let bytes = if text.len() == 64 {
            hex::decode(text)?
        } else {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text)?
        };
        bytes.try_into().map_err(|_| {
            anyhow::anyhow!("the secret key must be 32 bytes (64 hex digits or 43 base64url characters)")
        })
    };
    if let Some(key) = given {
        return Ok((parse(key.expose()).context("MERCATO_SECRET_KEY")?, None));
    }
    let path = data_dir.join("secret-key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok((parse(&text).with_context(|| format!("{} is not a secret key", path.display()))?, None));
    }
    let key: [u8; 32] = rand::random();
    let text = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    };
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((key, Some(Secret::new(text))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_is_made_once_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (key, shown) = secret_key(None, dir.path()).unwrap();
        let shown = shown.expect("a new key is shown once");
        let (again, shown_again) = secret_key(None, dir.path()).unwrap();
        assert_eq!((again, shown_again.is_none()), (key, true), "then read back, not shown");
        assert_eq!(secret_key(Some(&shown), dir.path()).unwrap().0, key, "given, it is the same key");
        let hex = Secret::new(hex::encode([9u8; 32]));
        assert_eq!(secret_key(Some(&hex), dir.path()).unwrap().0, [9u8; 32]);
        assert!(secret_key(Some(&Secret::new("short".into())), dir.path()).is_err());
    }
}
