//! Reports placeholder.
