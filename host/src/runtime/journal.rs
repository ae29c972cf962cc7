//! What a running host remembers of each plugin for its operator: the
//! recent log lines the plugin wrote (through the log import, or to its
//! stdout and stderr, where a panic's message goes) and the last failure of
//! each kind. Bounded, in memory, per plugin version; every entry names the
//! merchant whose call wrote it, so a view can be kept to one merchant.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;

/// Unix milliseconds now.
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Log lines kept per plugin.
pub const MAX_LINES: usize = 200;

/// One line a plugin wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JournalLine {
    /// Unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// The merchant whose call wrote it.
    pub merchant_id: String,
    /// The call, e.g. `calculate`.
    pub call: String,
    /// `debug`, `info`, `warn`, `error`, or `stderr`/`stdout` for what the
    /// plugin printed.
    pub level: String,
    /// The text written.
    pub message: String,
}

/// The last failure of one kind.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JournalError {
    /// Unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// The merchant whose call failed.
    pub merchant_id: String,
    /// The call, e.g. `calculate`.
    pub call: String,
    /// The failure kind: `trap`, `out_of_fuel`, `stack_overflow`, …
    pub kind: String,
    /// What went wrong, e.g. "exceeded its deadline of 50 ms".
    pub message: String,
    /// How many failures of this kind since the host started.
    pub count: u64,
}

/// A plugin's journal.
#[derive(Debug, Default)]
pub struct Journal {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    lines: VecDeque<JournalLine>,
    errors: BTreeMap<String, JournalError>,
}

impl Journal {
    /// Keeps `lines`, dropping the oldest past [`MAX_LINES`].
    pub fn lines(&self, lines: impl IntoIterator<Item = JournalLine>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for line in lines {
            if inner.lines.len() == MAX_LINES {
                inner.lines.pop_front();
            }
            inner.lines.push_back(line);
        }
    }

    /// Records a failure as the last of its kind.
    pub fn error(&self, mut e: JournalError) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        e.count = inner.errors.get(&e.kind).map_or(0, |prev| prev.count) + 1;
        inner.errors.insert(e.kind.clone(), e);
    }

    /// The recent lines and last errors, of one merchant's calls or of all.
    pub fn view(&self, merchant_id: Option<&str>) -> (Vec<JournalLine>, Vec<JournalError>) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mine = |m: &str| merchant_id.is_none_or(|id| id == m);
        (
            inner.lines.iter().filter(|l| mine(&l.merchant_id)).cloned().collect(),
            inner.errors.values().filter(|e| mine(&e.merchant_id)).cloned().collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(merchant: &str, n: usize) -> JournalLine {
        JournalLine {
            at: 0,
            merchant_id: merchant.into(),
            call: "c".into(),
            level: "info".into(),
            message: n.to_string(),
        }
    }

    #[test]
    fn keeps_the_recent_lines_and_the_last_error_of_each_kind() {
        let j = Journal::default();
        j.lines((0..MAX_LINES + 5).map(|n| line(if n % 2 == 0 { "a" } else { "b" }, n)));
        let (all, _) = j.view(None);
        assert_eq!(all.len(), MAX_LINES);
        assert_eq!(all[0].message, "5", "the oldest went first");
        let (a, _) = j.view(Some("a"));
        assert!(a.iter().all(|l| l.merchant_id == "a"));
        let error = |m: &str, msg: &str| JournalError {
            at: 0,
            merchant_id: m.into(),
            call: "c".into(),
            kind: "trap".into(),
            message: msg.into(),
            count: 0,
        };
        j.error(error("a", "first"));
        j.error(error("b", "second"));
        let (_, errors) = j.view(None);
        assert_eq!((errors.len(), errors[0].message.as_str(), errors[0].count), (1, "second", 2));
        assert!(j.view(Some("a")).1.is_empty(), "merchant a does not see b's failure");
    }
}
