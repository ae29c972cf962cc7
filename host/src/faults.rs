//! Crash points, for tests of what a host that dies mid-request leaves
//! behind. `MERCATO_FAULTS=checkout.placed` (names separated by commas)
//! makes a host that reaches that point stop there, holding whatever it
//! holds, until it is killed. Unset, as in production, a point costs one
//! look at a set read once.

use std::sync::OnceLock;

/// Waits forever if the point `name` is armed.
pub async fn point(name: &str) {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| {
        std::env::var("MERCATO_FAULTS")
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    });
    if armed.iter().any(|a| a == name) {
        tracing::warn!(point = name, "fault point reached: waiting to be killed");
        std::future::pending::<()>().await;
    }
}
