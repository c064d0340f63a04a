//! The bulk INSERT of an import, on SQLite's C API.
//!
//! rusqlite binds every text value with `SQLITE_TRANSIENT`, so SQLite copies each one into
//! a fresh allocation and frees it at the next bind: for a typical file that is most of the
//! inserter's time. Here text is bound `SQLITE_STATIC`, straight from the batch buffer.
//! That is sound because [`RawInsert::insert`] borrows the buffer for the whole call and
//! clears every binding before returning (on every path, through a guard), so SQLite never
//! holds a pointer past the borrow.

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr;

use rusqlite::Connection;
use rusqlite::ffi;

use super::import::Cell;

/// One prepared `INSERT INTO data VALUES (?,…),…` of a fixed number of rows.
pub struct RawInsert<'c> {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    params: usize,
    _conn: PhantomData<&'c Connection>,
}

impl<'c> RawInsert<'c> {
    pub fn prepare(conn: &'c Connection, sql: &str) -> Result<Self, String> {
        // SAFETY: the handle is used only while `conn` is borrowed ('c), on this thread.
        let db = unsafe { conn.handle() };
        let len = c_int::try_from(sql.len()).map_err(|_| "INSERT statement too long")?;
        let mut stmt = ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes; `stmt` receives an owned statement that
        // Drop finalizes.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(db, sql.as_ptr().cast(), len, &mut stmt, ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK || stmt.is_null() {
            return Err(errmsg(db, rc));
        }
        // SAFETY: `stmt` is a valid statement.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt) };
        Ok(RawInsert {
            db,
            stmt,
            params: usize::try_from(params).unwrap_or(0),
            _conn: PhantomData,
        })
    }

    /// Inserts consecutive groups of `cells` (one group fills every parameter once).
    /// `cells.len()` must be a multiple of the parameter count.
    pub fn insert(&mut self, cells: &[Cell], buf: &[u8]) -> Result<(), String> {
        // Clears the bindings however this returns, so no pointer into `buf` survives.
        struct Clear(*mut ffi::sqlite3_stmt);
        impl Drop for Clear {
            fn drop(&mut self) {
                // SAFETY: the statement is alive for the whole `insert` call.
                unsafe {
                    ffi::sqlite3_reset(self.0);
                    ffi::sqlite3_clear_bindings(self.0);
                }
            }
        }
        let _clear = Clear(self.stmt);
        if self.params == 0 || !cells.len().is_multiple_of(self.params) {
            return Err("internal: batch does not fill the INSERT".into());
        }
        for group in cells.chunks_exact(self.params) {
            for (i, cell) in group.iter().enumerate() {
                let idx = c_int::try_from(i + 1).map_err(|_| "too many parameters")?;
                // SAFETY: `stmt` is valid; text points into `buf`, which outlives this call,
                // and `_clear` unbinds it before the borrow ends.
                let rc = unsafe {
                    match *cell {
                        Cell::Null => ffi::sqlite3_bind_null(self.stmt, idx),
                        Cell::Int(v) => ffi::sqlite3_bind_int64(self.stmt, idx, v),
                        Cell::Real(v) => ffi::sqlite3_bind_double(self.stmt, idx, v),
                        Cell::Text { start, end } => {
                            let text = buf.get(start..end).ok_or("internal: text out of range")?;
                            let len = c_int::try_from(text.len()).map_err(|_| "field too long")?;
                            ffi::sqlite3_bind_text(
                                self.stmt,
                                idx,
                                text.as_ptr().cast(),
                                len,
                                ffi::SQLITE_STATIC(),
                            )
                        }
                    }
                };
                if rc != ffi::SQLITE_OK {
                    return Err(errmsg(self.db, rc));
                }
            }
            // SAFETY: `stmt` is valid and fully bound.
            let rc = unsafe { ffi::sqlite3_step(self.stmt) };
            if rc != ffi::SQLITE_DONE {
                return Err(errmsg(self.db, rc));
            }
            // SAFETY: as above.
            unsafe { ffi::sqlite3_reset(self.stmt) };
        }
        Ok(())
    }
}

impl Drop for RawInsert<'_> {
    fn drop(&mut self) {
        // SAFETY: `stmt` came from sqlite3_prepare_v2 and is finalized once, here.
        unsafe { ffi::sqlite3_finalize(self.stmt) };
    }
}

fn errmsg(db: *mut ffi::sqlite3, rc: c_int) -> String {
    // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the connection,
    // copied out before any other call on it.
    let msg = unsafe {
        let p = ffi::sqlite3_errmsg(db);
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    format!("{msg} (SQLite code {rc})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_every_kind_of_cell_and_unbinds() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE data (a, b)").unwrap();
        let mut ins = RawInsert::prepare(&conn, "INSERT INTO data VALUES (?,?),(?,?)").unwrap();
        let mut buf = b"hello".to_vec();
        let cells = [
            Cell::Int(1),
            Cell::Text { start: 0, end: 5 },
            Cell::Real(2.5),
            Cell::Null,
        ];
        ins.insert(&cells, &buf).unwrap();
        // The buffer can change at once: nothing still points into it.
        buf.clear();
        buf.extend_from_slice(b"world");
        ins.insert(&cells, &buf).unwrap();
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT quote(a), quote(b) FROM data")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                ("1".into(), "'hello'".into()),
                ("2.5".into(), "NULL".into()),
                ("1".into(), "'world'".into()),
                ("2.5".into(), "NULL".into()),
            ]
        );
        assert!(ins.insert(&cells[..3], &buf).is_err(), "partial group");
    }
}
