//! Compiled components on disk, keyed by content hash and by the engine's
//! compatibility hash, so a restart skips compilation and an upgraded or
//! reconfigured engine never loads a stale artifact.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled components are kept; `None` compiles in memory only.
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// Whether a component came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded a compiled artifact.
    Hit,
    /// Compiled it (and stored it, with a cache directory).
    Compiled,
}

struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        unreachable!("only the digest is read")
    }
}

impl ComponentCache {
    /// A cache in `dir` (created on first store) for `engine`.
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> ComponentCache {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_key = hex::encode(&h.0.finalize()[..8]);
        ComponentCache { dir, engine_key }
    }

    fn path(&self, dir: &Path, sha256: &str) -> PathBuf {
        dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// The compiled component for `bytes` (whose digest is `sha256`).
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> anyhow::Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, bytes)?, CacheOutcome::Compiled));
        };
        let path = self.path(dir, sha256);
        // One compilation per artifact at a time, across threads and
        // processes sharing the directory: a second install of the same
        // component (a JavaScript or Python one compiles for seconds) waits
        // on this lock, then loads what the first stored.
        std::fs::create_dir_all(dir)?;
        let lock = std::fs::File::create(dir.join(format!(".{sha256}-{}.lock", self.engine_key)))?;
        lock.lock()?;
        // Read, not mapped: a file changed under a mapping would crash the host.
        if let Ok(artifact) = std::fs::read(&path) {
            // SAFETY: the file is one this cache wrote (atomically, below) in a
            // directory the host owns, named by the content hash and the
            // engine's compatibility hash; wasmtime also checks the header
            // against this engine and refuses a mismatch.
            #[allow(unsafe_code)]
            match unsafe { Component::deserialize(engine, &artifact) } {
                Ok(c) => return Ok((c, CacheOutcome::Hit)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unusable cached component")
                }
            }
        }
        let compiled = engine.precompile_component(bytes)?;
        // Unique per writer: two installs of one component may race here.
        static WRITERS: AtomicU64 = AtomicU64::new(0);
        let n = WRITERS.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{sha256}-{}.{}-{n}.tmp", self.engine_key, std::process::id()));
        std::fs::write(&tmp, &compiled)?;
        std::fs::rename(&tmp, &path)?;
        // SAFETY: `compiled` was produced by this engine just now.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, &compiled)? };
        Ok((component, CacheOutcome::Compiled))
    }
}
