//! The one engine of a process: pooling allocator with copy-on-write memory
//! images, fuel for deterministic limits, epochs for wall-clock deadlines.

use std::thread;
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::limits::MAX_MEMORY_BYTES;

/// How often the epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Engine settings an operator may tune.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Concurrent plugin instances the pool holds (one per in-flight call).
    pub max_instances: u32,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig { max_instances: 256 }
    }
}

/// Builds the engine and starts its epoch ticker, which stops when the
/// returned engine's last clone is dropped.
pub fn build(config: &EngineConfig) -> anyhow::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(config.max_instances)
        .total_core_instances(config.max_instances * 4)
        .total_memories(config.max_instances * 2)
        .total_tables(config.max_instances * 4)
        .max_memory_size(MAX_MEMORY_BYTES as usize)
        // A Rust plugin has a few core instances; a Python one (CPython and
        // its libraries, linked at build time) about 40, with a table each
        // for several of them.
        .max_core_instances_per_component(64)
        .max_memories_per_component(4)
        .max_tables_per_component(16)
        // Reset a returned slot by rewriting only the pages a call dirtied
        // (found with PAGEMAP_SCAN where the kernel has it) instead of
        // unmapping them: the next call then takes no page faults.
        .linear_memory_keep_resident(4 << 20)
        .table_keep_resident(64 << 10)
        .pagemap_scan(Enabled::Auto);

    let mut cfg = Config::new();
    cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .wasm_component_model(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed)
        .parallel_compilation(true);
    if std::env::var_os("MERCATO_PERF_MAP").is_some() {
        // Names plugin functions for `perf` (in /tmp/perf-<pid>.map).
        cfg.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&cfg)?;
    start_ticker(&engine);
    Ok(engine)
}

fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    thread::Builder::new()
        .name("mercato-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        })
        .expect("failed to spawn the epoch ticker thread");
}
