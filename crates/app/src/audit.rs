//! Audit lines: who did what to which record, with the record before and after as JSON. Every
//! write use case builds one and hands it to the store, which writes it in the transaction of
//! the write itself.

use counterpart_store::AuditEntry;
use serde_json::Value;

/// The current time as an RFC 3339 timestamp (UTC), for audit lines and sign-offs.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// An audit line stamped now.
pub fn entry(
    actor: &str,
    action: &str,
    target: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> AuditEntry {
    AuditEntry {
        at: now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        before: before.map(|v| v.to_string()),
        after: after.map(|v| v.to_string()),
    }
}

/// The audit line of a load: what was imported (a directory, files, the demo) and how many
/// records of each table.
pub fn import(source: &str, records: &counterpart_domain::records::Records) -> AuditEntry {
    entry(
        "import",
        "records.import",
        source,
        None,
        Some(serde_json::json!({
            "records": records.len(),
            "projects": records.projects.len(),
            "transfers": records.transfers.len(),
        })),
    )
}
