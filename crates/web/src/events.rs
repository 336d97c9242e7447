//! The security log: sign-ins that succeed, fail or are held back, sign-outs, unknown API
//! tokens, CSRF failures and every refused request (403). Each event goes to the server's
//! standard error as one `security:` line, and the latest [`KEPT`] stay in memory for the audit
//! page (admins and auditors). The audit log in the database records writes; this records
//! attempts, which an attacker could otherwise repeat unseen.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many events the audit page can show.
pub const KEPT: usize = 1000;

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// UTC, to the second.
    pub at: String,
    /// `sign_in`, `sign_in_failed`, `sign_in_limited`, `sign_out`, `bad_token`, `csrf` or
    /// `refused`.
    pub kind: &'static str,
    /// The account named or signed in; `public` when none.
    pub who: String,
    /// What was asked (`POST /api/v1/transfers`) or why.
    pub detail: String,
}

#[derive(Default)]
pub struct SecurityLog {
    recent: Mutex<VecDeque<Event>>,
}

impl SecurityLog {
    pub fn record(&self, kind: &'static str, who: &str, detail: impl Into<String>) {
        let event = Event {
            at: jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
            kind,
            who: who.to_owned(),
            detail: detail.into(),
        };
        // Names and paths come from the client: quoted, so a line cannot be forged.
        eprintln!(
            "security: {} {} who={:?} {:?}",
            event.at, event.kind, event.who, event.detail
        );
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == KEPT {
            recent.pop_front();
        }
        recent.push_back(event);
    }

    /// The events kept, newest first.
    pub fn recent(&self) -> Vec<Event> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().rev().cloned().collect()
    }
}
