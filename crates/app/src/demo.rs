//! The demo program placeholder.
