//! ClickHouse's `TabSeparatedWithNamesAndTypes` as tdb's values. The server prints every
//! value in its own text (UInt64 and wider integers in full, Decimal with its scale, floats by
//! its rules), so the job is to undo TSV's escaping and to say what each column holds.

use crate::core::value::Value;

/// How one result column's cells read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Any integer type, `Int8` to `UInt256`: a JSON number with the server's digits.
    Int,
    /// `Float32`/`Float64` as the server printed them (`inf` and `nan` stay text in JSON).
    Float,
    /// `Decimal(P, S)`: the digits as written.
    Decimal,
    /// `Bool` in servers that have it.
    Bool,
    /// Composite values (`Array`, `Tuple`, `Map`, `Nested`) in ClickHouse's literal syntax,
    /// exactly as sent: their strings are quoted and escaped inside, and TSV leaves them so.
    Literal,
    /// Everything else as the server printed it: strings, dates, `DateTime` in the
    /// column's time zone, `UUID`, `Enum`, `IPv4`/`IPv6`.
    Text,
}

/// A column's reading from its type name: `Nullable(…)` and `LowCardinality(…)` read as
/// what they wrap.
pub fn cell_of(type_name: &str) -> Cell {
    let mut t = type_name.trim();
    loop {
        let inner = ["Nullable(", "LowCardinality("]
            .iter()
            .find_map(|w| t.strip_prefix(w).and_then(|r| r.strip_suffix(')')));
        match inner {
            Some(i) => t = i.trim(),
            None => break,
        }
    }
    let head = t.split('(').next().unwrap_or(t);
    match head {
        "Int8" | "Int16" | "Int32" | "Int64" | "Int128" | "Int256" | "UInt8" | "UInt16"
        | "UInt32" | "UInt64" | "UInt128" | "UInt256" => Cell::Int,
        "Float32" | "Float64" => Cell::Float,
        "Decimal" | "Decimal32" | "Decimal64" | "Decimal128" | "Decimal256" => Cell::Decimal,
        "Bool" => Cell::Bool,
        "Array" | "Tuple" | "Map" | "Nested" => Cell::Literal,
        _ => Cell::Text,
    }
}

/// One TSV field (still escaped) as a value. `\N` is NULL.
pub fn cell(field: &[u8], cell: Cell) -> Value {
    if field == b"\\N" {
        return Value::Null;
    }
    let raw = match cell {
        Cell::Literal => field.to_vec(),
        _ => unescape(field),
    };
    let text = match String::from_utf8(raw) {
        Ok(t) => t,
        // ClickHouse strings are bytes: what is not UTF-8 leaves as bytes.
        Err(e) => return Value::Bytes(e.into_bytes()),
    };
    match cell {
        Cell::Int => match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Number(text),
        },
        Cell::Float => Value::Number(text),
        Cell::Decimal => Value::Numeric(text),
        Cell::Bool => match text.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Text(text),
        },
        Cell::Literal | Cell::Text => Value::Text(text),
    }
}

/// TSV's escapes as ClickHouse writes them: `\b \f \r \n \t \0 \' \\`, and `\` before any
/// other character stands for that character.
pub fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut bytes = field.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'b') => out.push(0x08),
            Some(b'f') => out.push(0x0c),
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(&other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}

/// A TSV line's fields, still escaped (an escaped tab is `\t`, never a raw tab).
pub fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_pick_their_reading() {
        assert_eq!(cell_of("UInt64"), Cell::Int);
        assert_eq!(cell_of("Nullable(Int128)"), Cell::Int);
        assert_eq!(cell_of("LowCardinality(Nullable(Float32))"), Cell::Float);
        assert_eq!(cell_of("Decimal(18, 4)"), Cell::Decimal);
        assert_eq!(cell_of("DateTime('Asia/Tokyo')"), Cell::Text);
        assert_eq!(cell_of("Array(UInt8)"), Cell::Literal);
        assert_eq!(cell_of("Nullable(Tuple(UInt8, String))"), Cell::Literal);
    }

    #[test]
    fn cells_keep_the_server_text() {
        assert_eq!(cell(b"42", Cell::Int), Value::Int(42));
        assert_eq!(
            cell(b"18446744073709551615", Cell::Int),
            Value::Number("18446744073709551615".into())
        );
        assert_eq!(cell(b"1.5000", Cell::Decimal), Value::Numeric("1.5000".into()));
        assert_eq!(cell(b"inf", Cell::Float), Value::Number("inf".into()));
        assert_eq!(cell(b"\\N", Cell::Int), Value::Null);
        assert_eq!(cell(b"a\\tb\\nc\\\\d\\'", Cell::Text), Value::Text("a\tb\nc\\d'".into()));
        assert_eq!(cell(b"x\\0", Cell::Text), Value::Text("x\0".into()));
        assert_eq!(cell(b"\xff", Cell::Text), Value::Bytes(vec![0xff]));
        assert_eq!(
            cell(br"['x','y\'z\t']", Cell::Literal),
            Value::Text(r"['x','y\'z\t']".into())
        );
    }

    /// Types 18.16 lacks (the tested server), read from the text newer servers print for
    /// them (TabSeparated, as their documentation and `clickhouse-client` show).
    #[test]
    fn newer_types_keep_the_server_text() {
        for (ty, field, want) in [
            (
                "Int128",
                "-170141183460469231731687303715884105728",
                Value::Number("-170141183460469231731687303715884105728".into()),
            ),
            (
                "UInt256",
                "115792089237316195423570985008687907853269984665640564039457584007913129639935",
                Value::Number(
                    "115792089237316195423570985008687907853269984665640564039457584007913129639935"
                        .into(),
                ),
            ),
            ("Int256", "-1", Value::Int(-1)),
            (
                "DateTime64(3, 'Asia/Tokyo')",
                "2024-02-29 23:59:59.999",
                Value::Text("2024-02-29 23:59:59.999".into()),
            ),
            (
                "Nullable(DateTime64(6))",
                "1900-01-01 00:00:00.000001",
                Value::Text("1900-01-01 00:00:00.000001".into()),
            ),
            (
                "Map(String, UInt64)",
                r"{'a\'b':1,'c':18446744073709551615}",
                Value::Text(r"{'a\'b':1,'c':18446744073709551615}".into()),
            ),
            ("IPv4", "192.168.0.1", Value::Text("192.168.0.1".into())),
            (
                "IPv6",
                "2001:db8::ff00:42:8329",
                Value::Text("2001:db8::ff00:42:8329".into()),
            ),
            ("Bool", "true", Value::Bool(true)),
            ("Nullable(Bool)", "\\N", Value::Null),
            (
                "Decimal256(40)",
                "-0.0000000000000000000000000000000000000001",
                Value::Numeric("-0.0000000000000000000000000000000000000001".into()),
            ),
            (
                "LowCardinality(Nullable(String))",
                "café\\t",
                Value::Text("café\t".into()),
            ),
        ] {
            assert_eq!(cell(field.as_bytes(), cell_of(ty)), want, "{ty}: {field}");
        }
    }
}
