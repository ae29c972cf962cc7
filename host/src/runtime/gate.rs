//! At most one plugin call per core at a time. A call's deadline is wall
//! time: with more calls running than cores, the scheduler time-slices them
//! and a call can miss its deadline without doing more work. Waiting here,
//! before the call's clock starts, keeps the deadline about the plugin.

use std::sync::{Condvar, Mutex};

pub(crate) struct Gate {
    free: Mutex<usize>,
    freed: Condvar,
}

pub(crate) struct Pass<'a>(&'a Gate);

impl Gate {
    pub fn new(permits: usize) -> Gate {
        Gate { free: Mutex::new(permits.max(1)), freed: Condvar::new() }
    }

    /// One per core of this machine.
    pub fn per_core() -> Gate {
        Gate::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// A pass if one is free now; never waits (background calls).
    pub fn try_enter(&self) -> Option<Pass<'_>> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if *free == 0 {
            return None;
        }
        *free -= 1;
        Some(Pass(self))
    }

    /// Blocks until a call may start.
    pub fn enter(&self) -> Pass<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        Pass(self)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn no_more_calls_run_than_permits() {
        let gate = Arc::new(super::Gate::new(2));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _pass = gate.enter();
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        running.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
