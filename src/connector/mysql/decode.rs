//! Cells of MySQL's text protocol as tdb's values: every value arrives as the server's own
//! text, so the job is to keep it (digits, zero dates, a double as the server prints it) and
//! to say what it is (a number for JSON, bytes as hex, a bit string).

use mysql_async::Value as Wire;
use mysql_async::consts::{ColumnFlags, ColumnType};

use crate::core::value::Value;

/// The `binary` character set: a string column of it holds bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// How one result column's cells read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// A signed integer type: fits i64.
    Int,
    /// An unsigned integer type: past i64's range it stays the server's digits.
    Unsigned,
    /// A float or double as the server printed it.
    Float,
    /// DECIMAL, and integers with ZEROFILL (`00042`): the digits as written.
    Decimal,
    /// TIMESTAMP: the session time zone's wall clock, given its offset.
    Timestamp,
    /// BIT(n): the bits, most significant first, `n` of them.
    Bits(u32),
    /// MySQL's JSON type.
    Json,
    /// Binary strings, blobs and geometry.
    Bytes,
    /// Everything else: the text as sent (dates, times, YEAR, ENUM, SET, strings).
    Text,
}

/// A column's reading and the name its type goes by (`bigint unsigned`, `varchar`).
pub fn column(c: &mysql_async::Column) -> (Cell, String) {
    use ColumnType::*;
    let flags = c.flags();
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = c.character_set() == BINARY_CHARSET;
    let int = |name: &str| {
        let cell = if flags.contains(ColumnFlags::ZEROFILL_FLAG) {
            Cell::Decimal
        } else if unsigned {
            Cell::Unsigned
        } else {
            Cell::Int
        };
        let label = if unsigned {
            format!("{name} unsigned")
        } else {
            name.to_string()
        };
        (cell, label)
    };
    let text = |name: &str| (Cell::Text, name.to_string());
    match c.column_type() {
        MYSQL_TYPE_TINY => int("tinyint"),
        MYSQL_TYPE_SHORT => int("smallint"),
        MYSQL_TYPE_INT24 => int("mediumint"),
        MYSQL_TYPE_LONG => int("int"),
        MYSQL_TYPE_LONGLONG => int("bigint"),
        MYSQL_TYPE_FLOAT => (Cell::Float, "float".into()),
        MYSQL_TYPE_DOUBLE => (Cell::Float, "double".into()),
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => (Cell::Decimal, "decimal".into()),
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => (Cell::Timestamp, "timestamp".into()),
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => text("datetime"),
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => text("date"),
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => text("time"),
        MYSQL_TYPE_YEAR => text("year"),
        MYSQL_TYPE_BIT => (Cell::Bits(c.column_length().max(1)), "bit".into()),
        MYSQL_TYPE_JSON => (Cell::Json, "json".into()),
        MYSQL_TYPE_GEOMETRY => (Cell::Bytes, "geometry".into()),
        MYSQL_TYPE_NULL => text("null"),
        MYSQL_TYPE_ENUM => text("enum"),
        MYSQL_TYPE_SET => text("set"),
        _ if flags.contains(ColumnFlags::ENUM_FLAG) => text("enum"),
        _ if flags.contains(ColumnFlags::SET_FLAG) => text("set"),
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB => {
            if binary {
                (Cell::Bytes, "blob".into())
            } else {
                text("text")
            }
        }
        MYSQL_TYPE_STRING if binary => (Cell::Bytes, "binary".into()),
        MYSQL_TYPE_STRING => text("char"),
        MYSQL_TYPE_VAR_STRING | MYSQL_TYPE_VARCHAR if binary => (Cell::Bytes, "varbinary".into()),
        MYSQL_TYPE_VAR_STRING | MYSQL_TYPE_VARCHAR => text("varchar"),
        MYSQL_TYPE_VECTOR => (Cell::Bytes, "vector".into()),
        _ if binary => (Cell::Bytes, "binary".into()),
        _ => text("text"),
    }
}

/// One cell. `offset` is the session's UTC offset (`+01:00`), given to TIMESTAMP values.
pub fn cell(wire: Wire, cell: Cell, offset: &str) -> Value {
    let bytes = match wire {
        Wire::NULL => return Value::Null,
        Wire::Bytes(b) => b,
        // The text protocol sends nothing else; should a server do so, its own rendering.
        other => return Value::Text(other.as_sql(true)),
    };
    match cell {
        Cell::Bytes => Value::Bytes(bytes),
        Cell::Bits(n) => Value::Text(bit_string(&bytes, n)),
        _ => match String::from_utf8(bytes) {
            Ok(text) => typed(text, cell, offset),
            // Text in a character set the connection could not convert: bytes, unchanged.
            Err(e) => Value::Bytes(e.into_bytes()),
        },
    }
}

fn typed(text: String, cell: Cell, offset: &str) -> Value {
    match cell {
        Cell::Int | Cell::Unsigned => match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Number(text),
        },
        Cell::Float => Value::Number(text),
        Cell::Decimal => Value::Numeric(text),
        Cell::Json => Value::Json(text),
        // A zero date names no instant: no offset for it.
        Cell::Timestamp if !text.starts_with("0000-00-00") && !offset.is_empty() => {
            let mut t = text;
            t.push_str(offset);
            Value::Text(t)
        }
        _ => Value::Text(text),
    }
}

/// BIT(n)'s bytes (big-endian) as `n` binary digits: `b'101'` in a BIT(3) is `101`.
fn bit_string(bytes: &[u8], n: u32) -> String {
    let n = n as usize;
    let mut all = String::with_capacity(bytes.len() * 8);
    for b in bytes {
        all.push_str(&format!("{b:08b}"));
    }
    if all.len() > n {
        all.split_off(all.len() - n)
    } else {
        format!("{all:0>n$}")
    }
}

/// `@@session.time_zone` as an ISO 8601 offset: `+00:00`, `-05:00`, `+05:45`; empty when
/// it is not a fixed offset (the connector pins the session to one, so that is rare).
pub fn iso_offset(zone: &str) -> String {
    let zone = zone.trim();
    let Some(sign) = zone.chars().next().filter(|c| matches!(c, '+' | '-')) else {
        return if zone.eq_ignore_ascii_case("utc") {
            "+00:00".into()
        } else {
            String::new()
        };
    };
    let Some((h, m)) = zone[1..].split_once(':') else {
        return String::new();
    };
    match (h.parse::<u8>(), m.parse::<u8>()) {
        (Ok(h), Ok(m)) if h <= 14 && m < 60 => format!("{sign}{h:02}:{m:02}"),
        _ => String::new(),
    }
}

/// The bytes a cell holds, for the result budget.
pub fn wire_len(v: &Wire) -> u64 {
    match v {
        Wire::Bytes(b) => b.len() as u64,
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_the_server_text() {
        let b = |s: &str| Wire::Bytes(s.as_bytes().to_vec());
        assert_eq!(cell(b("42"), Cell::Int, ""), Value::Int(42));
        assert_eq!(
            cell(b("18446744073709551615"), Cell::Unsigned, ""),
            Value::Number("18446744073709551615".into())
        );
        assert_eq!(cell(b("1e15"), Cell::Float, ""), Value::Number("1e15".into()));
        assert_eq!(
            cell(b("0.10"), Cell::Decimal, ""),
            Value::Numeric("0.10".into())
        );
        assert_eq!(
            cell(b("2024-03-01 10:00:00.5"), Cell::Timestamp, "+01:00"),
            Value::Text("2024-03-01 10:00:00.5+01:00".into())
        );
        assert_eq!(
            cell(b("0000-00-00 00:00:00"), Cell::Timestamp, "+01:00"),
            Value::Text("0000-00-00 00:00:00".into())
        );
        assert_eq!(
            cell(Wire::Bytes(vec![0x05]), Cell::Bits(3), ""),
            Value::Text("101".into())
        );
        assert_eq!(
            cell(Wire::Bytes(vec![0x01, 0x00]), Cell::Bits(10), ""),
            Value::Text("0100000000".into())
        );
        assert_eq!(
            cell(Wire::Bytes(vec![0xff, 0x00]), Cell::Text, ""),
            Value::Bytes(vec![0xff, 0x00])
        );
        assert_eq!(cell(Wire::NULL, Cell::Text, ""), Value::Null);
    }

    #[test]
    fn offsets_read_as_iso() {
        for (zone, want) in [
            ("+00:00", "+00:00"),
            ("-5:00", "-05:00"),
            ("+05:45", "+05:45"),
            ("UTC", "+00:00"),
            ("SYSTEM", ""),
            ("Europe/Paris", ""),
            ("+99:00", ""),
        ] {
            assert_eq!(iso_offset(zone), want, "{zone}");
        }
    }
}
