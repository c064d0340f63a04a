//! The part of DuckDB's C API tdb uses, loaded at run time from `libduckdb.so` (see
//! [`super::lib`]): no C++ compile in tdb's build, and the library is mapped only once a file
//! source is used.

use std::ffi::{c_char, c_void};

pub type Handle = *mut c_void;
pub type State = u32;
pub type Idx = u64;

pub const SUCCESS: State = 0;

/// `duckdb_result`: passed by value to a few calls, so its layout matters.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DuckResult {
    pub deprecated_column_count: Idx,
    pub deprecated_row_count: Idx,
    pub deprecated_rows_changed: Idx,
    pub deprecated_columns: *mut c_void,
    pub deprecated_error_message: *mut c_char,
    pub internal_data: *mut c_void,
}

impl DuckResult {
    pub fn zeroed() -> DuckResult {
        DuckResult {
            deprecated_column_count: 0,
            deprecated_row_count: 0,
            deprecated_rows_changed: 0,
            deprecated_columns: std::ptr::null_mut(),
            deprecated_error_message: std::ptr::null_mut(),
            internal_data: std::ptr::null_mut(),
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct QueryProgress {
    pub percentage: f64,
    pub rows_processed: u64,
    pub total_rows_to_process: u64,
}

/// `duckdb_string_t`: 16 bytes, the length first; up to 12 bytes inline, else a prefix and
/// a pointer.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StringT {
    pub length: u32,
    pub prefix: [u8; 4],
    pub ptr: *const u8,
}

// Type ids (`DUCKDB_TYPE`).
pub const T_BOOLEAN: u32 = 1;
pub const T_TINYINT: u32 = 2;
pub const T_SMALLINT: u32 = 3;
pub const T_INTEGER: u32 = 4;
pub const T_BIGINT: u32 = 5;
pub const T_UTINYINT: u32 = 6;
pub const T_USMALLINT: u32 = 7;
pub const T_UINTEGER: u32 = 8;
pub const T_UBIGINT: u32 = 9;
pub const T_VARCHAR: u32 = 17;
pub const T_BLOB: u32 = 18;
pub const T_DECIMAL: u32 = 19;
pub const T_HUGEINT: u32 = 16;
pub const T_UHUGEINT: u32 = 32;
pub const T_FLOAT: u32 = 10;
pub const T_DOUBLE: u32 = 11;
pub const T_BIGNUM: u32 = 35;
pub const T_SQLNULL: u32 = 36;

// `duckdb_pending_state`.
pub const PENDING_READY: u32 = 0;
pub const PENDING_ERROR: u32 = 2;

// `duckdb_statement_type`.
pub const STATEMENT_SELECT: u32 = 1;
pub const STATEMENT_EXPLAIN: u32 = 4;

/// Declares the API table: each entry a symbol looked up once when the library loads.
macro_rules! api {
    ($($name:ident: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        #[allow(non_snake_case)]
        pub struct Api {
            $(pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            _lib: libloading::Library,
        }

        impl Api {
            /// Looks up every symbol in `lib`; a missing one names itself.
            ///
            /// # Safety
            /// `lib` must be DuckDB's C API library, of a version with these signatures.
            pub unsafe fn load(lib: libloading::Library) -> Result<Api, String> {
                $(
                    let $name = unsafe {
                        *lib.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                            concat!(stringify!($name), "\0").as_bytes(),
                        )
                        .map_err(|e| format!("{}: {e}", stringify!($name)))?
                    };
                )*
                Ok(Api { $($name,)* _lib: lib })
            }
        }
    };
}

api! {
    duckdb_library_version: fn() -> *const c_char;
    duckdb_create_config: fn(*mut Handle) -> State;
    duckdb_set_config: fn(Handle, *const c_char, *const c_char) -> State;
    duckdb_destroy_config: fn(*mut Handle);
    duckdb_open_ext: fn(*const c_char, *mut Handle, Handle, *mut *mut c_char) -> State;
    duckdb_close: fn(*mut Handle);
    duckdb_connect: fn(Handle, *mut Handle) -> State;
    duckdb_disconnect: fn(*mut Handle);
    duckdb_interrupt: fn(Handle);
    duckdb_query_progress: fn(Handle) -> QueryProgress;
    duckdb_free: fn(*mut c_void);
    duckdb_query: fn(Handle, *const c_char, *mut DuckResult) -> State;
    duckdb_destroy_result: fn(*mut DuckResult);
    duckdb_result_error: fn(*mut DuckResult) -> *const c_char;
    duckdb_prepare: fn(Handle, *const c_char, *mut Handle) -> State;
    duckdb_prepare_error: fn(Handle) -> *const c_char;
    duckdb_destroy_prepare: fn(*mut Handle);
    duckdb_prepared_statement_type: fn(Handle) -> u32;
    duckdb_pending_prepared: fn(Handle, *mut Handle) -> State;
    duckdb_pending_prepared_streaming: fn(Handle, *mut Handle) -> State;
    duckdb_pending_execute_task: fn(Handle) -> u32;
    duckdb_pending_error: fn(Handle) -> *const c_char;
    duckdb_execute_pending: fn(Handle, *mut DuckResult) -> State;
    duckdb_destroy_pending: fn(*mut Handle);
    duckdb_prepared_statement_column_count: fn(Handle) -> Idx;
    duckdb_prepared_statement_column_name: fn(Handle, Idx) -> *const c_char;
    duckdb_prepared_statement_column_type: fn(Handle, Idx) -> u32;
    duckdb_prepared_statement_column_logical_type: fn(Handle, Idx) -> Handle;
    duckdb_logical_type_get_alias: fn(Handle) -> *mut c_char;
    duckdb_destroy_logical_type: fn(*mut Handle);
    duckdb_fetch_chunk: fn(DuckResult) -> Handle;
    duckdb_data_chunk_get_size: fn(Handle) -> Idx;
    duckdb_data_chunk_get_vector: fn(Handle, Idx) -> Handle;
    duckdb_destroy_data_chunk: fn(*mut Handle);
    duckdb_vector_get_data: fn(Handle) -> *mut c_void;
    duckdb_vector_get_validity: fn(Handle) -> *mut u64;
    duckdb_appender_create: fn(Handle, *const c_char, *const c_char, *mut Handle) -> State;
    duckdb_appender_error: fn(Handle) -> *const c_char;
    duckdb_appender_close: fn(Handle) -> State;
    duckdb_appender_destroy: fn(*mut Handle) -> State;
    duckdb_appender_end_row: fn(Handle) -> State;
    duckdb_append_bool: fn(Handle, bool) -> State;
    duckdb_append_int64: fn(Handle, i64) -> State;
    duckdb_append_double: fn(Handle, f64) -> State;
    duckdb_append_varchar_length: fn(Handle, *const c_char, Idx) -> State;
    duckdb_append_null: fn(Handle) -> State;
}
