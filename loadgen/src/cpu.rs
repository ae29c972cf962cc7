//! CPU time spent during a measured window, read from `/proc` (Linux): by
//! the host under test, by the database's server processes (PostgreSQL's
//! backends; none for SQLite, which runs inside the host), and by this
//! client. Divided by the requests served, it is the CPU one request costs
//! each side.

use std::time::Instant;

/// CPU seconds used so far: (host, database, client).
fn now(host_pid: u32) -> [f64; 3] {
    let ticks = 100.0; // USER_HZ on Linux
    let stat = |path: &str| -> Option<(String, f64)> {
        let text = std::fs::read_to_string(path).ok()?;
        let (name, rest) =
            (text.get(text.find('(')? + 1..text.rfind(')')?)?, text.get(text.rfind(')')? + 2..)?);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let used = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some((name.to_owned(), used / ticks))
    };
    let host = stat(&format!("/proc/{host_pid}/stat")).map_or(0.0, |(_, s)| s);
    let client = stat("/proc/self/stat").map_or(0.0, |(_, s)| s);
    let mut database = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
            if let Some((comm, used)) = stat(&format!("/proc/{pid}/stat"))
                && comm == "postgres"
            {
                database += used;
            }
        }
    }
    [host, database, client]
}

/// CPU used over a window: (host, database, client) seconds, and the
/// window's wall seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Used {
    pub seconds: [f64; 3],
    pub wall: f64,
}

/// Samples CPU at `from` and at `to` (instants in the future), on a task.
/// Database processes that exit within the window are not counted.
pub fn during(host_pid: u32, from: Instant, to: Instant) -> tokio::task::JoinHandle<Used> {
    tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let start = now(host_pid);
        tokio::time::sleep_until(to.into()).await;
        let end = now(host_pid);
        let mut seconds = [0.0; 3];
        for i in 0..3 {
            seconds[i] = (end[i] - start[i]).max(0.0);
        }
        Used { seconds, wall: to.duration_since(from).as_secs_f64() }
    })
}
