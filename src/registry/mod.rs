//! The SQLite registry.
