//! Pure algorithms over plain data: pairing, assignment, min-cost flow, stable matching.
//! Each solver returns a certificate that a test can check.
//!
//! Architecture Invariant: this crate does no I/O beyond parsing text it is handed. It never
//! depends on `store`, `web`, sqlx, axum, tokio or any other I/O crate; `.ci/check-deps`
//! enforces it.
//!
//! The solvers arrive with the pairing-engine issue; the crate exists now so that the
//! dependency rule holds from the first commit.
