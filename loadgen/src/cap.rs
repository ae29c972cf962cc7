//! `--host-cpus`: the servers under test held to a share of the machine's
//! cores through a Linux cgroup (CFS quota), so that the database's server
//! and the client have the rest, as a host has when its PostgreSQL runs on
//! a machine of its own. Without it the three share every core, and a
//! PostgreSQL run measures the database's CPU on the host's cores as much
//! as the host.
//!
//! cgroup v2 (`cpu.max`) where the unified hierarchy has the `cpu`
//! controller, else cgroup v1's `cpu` hierarchy (`cpu.cfs_quota_us`).
//! Needs the right to create a cgroup (root, or a delegated subtree).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The period the quota is counted over: short, so that a capped server
/// is held back for at most a few milliseconds at a time.
const PERIOD_US: u64 = 10_000;

/// A cgroup of its own, removed when dropped (its processes gone first).
pub struct CpuCap {
    dir: PathBuf,
}

impl CpuCap {
    /// A new cgroup whose processes share at most `cores` cores (see [`check`]).
    pub fn new(cores: f64) -> Result<CpuCap> {
        check(cores)?;
        let quota = (cores * PERIOD_US as f64).round() as u64;
        let name = format!("mercato-bench-{}", &crate::server::random_hex()[..12]);
        let v2 = Path::new("/sys/fs/cgroup");
        let v2_cpu = std::fs::read_to_string(v2.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"));
        let dir = if v2_cpu {
            let dir = v2.join(&name);
            make(&dir)?;
            write(&dir.join("cpu.max"), &format!("{quota} {PERIOD_US}"))?;
            dir
        } else {
            let v1 = Path::new("/sys/fs/cgroup/cpu");
            if !v1.join("cpu.cfs_quota_us").exists() {
                bail!(
                    "--host-cpus needs a cgroup cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us); none found"
                );
            }
            let dir = v1.join(&name);
            make(&dir)?;
            write(&dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
            write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
            dir
        };
        Ok(CpuCap { dir })
    }

    /// Moves process `pid` (every thread of it) into the cgroup.
    pub fn hold(&self, pid: u32) -> Result<()> {
        write(&self.dir.join("cgroup.procs"), &pid.to_string())
    }
}

impl Drop for CpuCap {
    fn drop(&mut self) {
        // Removable once its processes are gone (they are killed and
        // waited for before this is dropped).
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!("could not remove the cgroup {}: {e}", self.dir.display());
        }
    }
}

/// Whether `cores` is a share this machine can give: from 0.1 to all of its cores.
pub fn check(cores: f64) -> Result<()> {
    let available = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if !(0.1..=available).contains(&cores) {
        bail!("--host-cpus must be from 0.1 to the machine's {available} cores, not {cores}");
    }
    Ok(())
}

fn make(dir: &Path) -> Result<()> {
    std::fs::create_dir(dir)
        .with_context(|| format!("--host-cpus: could not create the cgroup {} (root needed)", dir.display()))
}

fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value)
        .with_context(|| format!("--host-cpus: could not write {value:?} to {}", path.display()))
}
