//! Cells and result sets, and how they map to JSON and to text (CONTRACT.md: integers and
//! floats are numbers, `numeric` keeps its exact digits as a string, timestamps are ISO 8601
//! strings, NULL is `null`, bytes are `"\\x…"` hex).

use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value as Json};

/// One cell. Temporal values, uuids, intervals and enums arrive as [`Value::Text`] in their
/// canonical text form (ISO 8601 for timestamps); `kind` on the column says what they were.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// `real` (float4): printed by float4out's rules, which switch to an exponent past six
    /// digits (`1e+06`) where float8 waits for fifteen.
    Float4(f32),
    /// An exact decimal, kept as its digits.
    Numeric(String),
    /// A number as the engine wrote it (`18446744073709551615`, `1e15`, `3.14159`): shown as
    /// that text and written into JSON as a number with those very digits, so integers past
    /// 2^63 and floats printed by the engine's own rules leave exactly as the engine said.
    Number(String),
    Text(String),
    Bytes(Vec<u8>),
    /// JSON as the engine's text: shown as it is, and embedded raw in JSON output (digits,
    /// key order and duplicate keys untouched).
    Json(String),
    Array(Vec<Value>),
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Value {
    /// Numbers are right-aligned in grids.
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Value::Int(_)
                | Value::Float(_)
                | Value::Float4(_)
                | Value::Numeric(_)
                | Value::Number(_)
        )
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .unwrap_or_else(|| Json::String(float_text(*f))),
            Value::Float4(f) => serde_json::Number::from_f64(f32_digits(*f))
                .map(Json::Number)
                .unwrap_or_else(|| Json::String(float4_text(*f))),
            Value::Numeric(s) | Value::Text(s) => Json::String(s.clone()),
            // A tree holds 64-bit integers and doubles; wider integers stay text here (the
            // serializer below writes them raw).
            Value::Number(t) => match (t.parse::<i64>(), t.parse::<u64>()) {
                (Ok(i), _) => Json::from(i),
                (_, Ok(u)) => Json::from(u),
                _ if is_json_number(t) && t.contains(['.', 'e', 'E']) => t
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Json::String(t.clone()), Json::Number),
                _ => Json::String(t.clone()),
            },
            Value::Bytes(b) => Json::String(bytes_text(b)),
            // A tree cannot hold the text's exact digits; output that must keep them
            // serializes the value itself (see `Serialize`), which embeds the text raw.
            Value::Json(t) if embeds_raw(t) => {
                serde_json::from_str(t).unwrap_or_else(|_| Json::String(t.clone()))
            }
            Value::Json(t) => Json::String(t.trim().to_string()),
            Value::Array(items) => Json::Array(items.iter().map(Value::to_json).collect()),
        }
    }

    /// The text a grid, CSV or TSV shows; `None` for NULL so callers can tell it from `""`.
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => float_text(*f),
            Value::Float4(f) => float4_text(*f),
            Value::Numeric(s) | Value::Text(s) | Value::Number(s) => s.clone(),
            Value::Bytes(b) => bytes_text(b),
            Value::Json(t) => t.clone(),
            Value::Array(items) => {
                let mut out = String::from("{");
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match v.to_text() {
                        None => out.push_str("NULL"),
                        Some(t) if matches!(v, Value::Text(_)) && needs_array_quotes(&t) => {
                            out.push('"');
                            out.push_str(&t.replace('\\', "\\\\").replace('"', "\\\""));
                            out.push('"');
                        }
                        Some(t) => out.push_str(&t),
                    }
                }
                out.push('}');
                out
            }
        })
    }
}

/// The same mapping as [`Value::to_json`], written straight to a serializer so a large
/// result never becomes a tree of `serde_json::Value`s first.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(f) => s.serialize_str(&float_text(*f)),
            Value::Float4(f) if f.is_finite() => s.serialize_f64(f32_digits(*f)),
            Value::Float4(f) => s.serialize_str(&float4_text(*f)),
            Value::Numeric(t) | Value::Text(t) => s.serialize_str(t),
            // Raw, so no digit is lost to a float on the way; text that is not JSON's number
            // syntax (an engine's `inf`) goes out as a string.
            Value::Number(t) if is_json_number(t) => {
                match serde_json::from_str::<&serde_json::value::RawValue>(t) {
                    Ok(raw) => raw.serialize(s),
                    Err(_) => s.serialize_str(t),
                }
            }
            Value::Number(t) => s.serialize_str(t),
            Value::Bytes(b) => s.serialize_str(&bytes_text(b)),
            Value::Json(t) if embeds_raw(t) => {
                match serde_json::from_str::<&serde_json::value::RawValue>(t) {
                    Ok(raw) => raw.serialize(s),
                    // Not JSON after all (a server never sends that): the text as a string.
                    Err(_) => s.serialize_str(t),
                }
            }
            Value::Json(t) => s.serialize_str(t.trim()),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}

/// One row as a JSON object of the given names and cells, serialized without building a
/// tree (so JSON cells keep their text).
pub struct JsonObject<'a> {
    pub pairs: Vec<(&'a str, &'a Value)>,
}

impl Serialize for JsonObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.pairs.len()))?;
        for (name, v) in &self.pairs {
            m.serialize_entry(name, v)?;
        }
        m.end()
    }
}

/// Rows as JSON objects keyed by unique column names, serialized lazily.
pub struct JsonRows<'a> {
    pub names: &'a [String],
    pub rows: &'a [Vec<Value>],
}

impl Serialize for JsonRows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            seq.serialize_element(&JsonRow {
                names: self.names,
                row,
            })?;
        }
        seq.end()
    }
}

struct JsonRow<'a> {
    names: &'a [String],
    row: &'a [Value],
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.names.len()))?;
        for (name, v) in self.names.iter().zip(self.row) {
            m.serialize_entry(name, v)?;
        }
        m.end()
    }
}

/// Whether a json value is an object or an array, the shapes embedded raw in JSON output.
/// A scalar (`null`, `5`, `"a"`, `true`) goes out as a string holding the server's text
/// instead: embedded raw, a JSON `null` would read exactly like SQL NULL, and a JSON
/// string `"null"` like that string's text. So a JSON cell is never a bare `null`, and
/// `fromjson` on a string cell gives the value back.
/// A json value is embedded in JSON output as the server's text, digits untouched, except
/// JSON's `null`: that becomes the string `"null"`, so a bare `null` is always SQL NULL.
fn embeds_raw(t: &str) -> bool {
    t.trim() != "null"
}

/// JSON's number syntax: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    match digits(&mut i) {
        0 => return false,
        n if n > 1 && b[int_start] == b'0' => return false,
        _ => {}
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn needs_array_quotes(t: &str) -> bool {
    t.is_empty()
        || t.eq_ignore_ascii_case("null")
        || t.chars()
            .any(|c| matches!(c, ',' | '{' | '}' | '"' | '\\') || c.is_whitespace())
}

/// A float as PostgreSQL's `float8out` prints it: the shortest digits that read back to the
/// same value, in plain notation for decimal exponents from -4 to 14 and as `d.ddde±XX`
/// outside them (`1e-05`, `1e+15`, `1.7976931348623157e+308`).
fn float_text(f: f64) -> String {
    if let Some(special) = special_float(f) {
        return special.into();
    }
    // `{:e}` gives the shortest round-trip digits with their exponent: `1.2345e17`.
    shortest_text(&format!("{f:e}"), 15).unwrap_or_else(|| f.to_string())
}

/// A `real` as `float4out` prints it: the shortest digits that read back to the same f32,
/// plain for decimal exponents from -4 to 5 (as printf's `%g` does), `1e+06` beyond.
fn float4_text(f: f32) -> String {
    if let Some(special) = special_float(f64::from(f)) {
        return special.into();
    }
    shortest_text(&format!("{f:e}"), 6).unwrap_or_else(|| f.to_string())
}

/// The f64 that prints with the f32's shortest digits: `1.1::real` is 1.1, not the
/// 1.100000023841858 that widening the bits gives, for JSON numbers and sorting.
pub fn f32_digits(f: f32) -> f64 {
    if f.is_finite() {
        f.to_string().parse().unwrap_or(f64::from(f))
    } else {
        f64::from(f)
    }
}

fn special_float(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f.is_infinite() {
        Some(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else if f == 0.0 {
        Some(if f.is_sign_negative() { "-0" } else { "0" })
    } else {
        None
    }
}

/// Rust's shortest scientific form (`1.2345e17`) in PostgreSQL's layout: `None` when the
/// exponent is in `-4..plain_below` (the caller's plain `Display`, the same shortest
/// digits, is then right), else `1.2345e+17`.
fn shortest_text(sci: &str, plain_below: i32) -> Option<String> {
    let (mantissa, exp) = sci.split_once('e')?;
    let exp = exp.parse::<i32>().ok()?;
    if (-4..plain_below).contains(&exp) {
        return None;
    }
    let sign = if exp < 0 { '-' } else { '+' };
    Some(format!("{mantissa}e{sign}{:02}", exp.unsigned_abs()))
}

fn bytes_text(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + b.len() * 2);
    s.push_str("\\x");
    for byte in b {
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// A result column: its name and the source's name for its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
}

/// Rows of one query, at most the request's limit; `truncated` says more rows existed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub truncated: bool,
}

impl ResultSet {
    /// Column names made unique (`a`, `a_2`, …) so a JSON row object keeps every cell.
    pub fn unique_column_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let mut name = c.name.clone();
            let mut n = 2;
            while out.contains(&name) {
                name = format!("{}_{n}", c.name);
                n += 1;
            }
            out.push(name);
        }
        out
    }

    /// Rows as JSON objects keyed by [`Self::unique_column_names`].
    pub fn json_rows(&self) -> Vec<Json> {
        let names = self.unique_column_names();
        self.rows
            .iter()
            .map(|row| {
                let mut m = Map::with_capacity(names.len());
                for (name, v) in names.iter().zip(row) {
                    m.insert(name.clone(), v.to_json());
                }
                Json::Object(m)
            })
            .collect()
    }
}

/// How many bytes of cell data one result may hold in tdb, besides its row limit: a row
/// limit alone lets `SELECT repeat('x', 100000000) FROM generate_series(1, 40)` take gigabytes
/// and abort the process. `TDB_RESULT_BYTES` sets it (bytes, or a number with `K`, `M` or `G`,
/// binary multiples); it is read once per process, because every connector must agree on it
/// and a test or a server must not see it change under a running query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultBudget(u64);

impl ResultBudget {
    pub const DEFAULT: ResultBudget = ResultBudget(64 << 20);
    /// Below this a legitimate server message (a wide row description, a long error) could
    /// trip the PostgreSQL frame check, and a CSV cache row could become unreadable.
    pub const MIN: ResultBudget = ResultBudget(1 << 20);
    pub const ENV: &'static str = "TDB_RESULT_BYTES";

    /// The process's budget: `TDB_RESULT_BYTES`, else [`Self::DEFAULT`].
    pub fn from_env() -> crate::core::Result<ResultBudget> {
        static BUDGET: std::sync::OnceLock<Result<ResultBudget, String>> =
            std::sync::OnceLock::new();
        BUDGET
            .get_or_init(|| match std::env::var(Self::ENV) {
                Ok(v) => ResultBudget::parse(&v).map_err(|e| format!("{}: {e}", Self::ENV)),
                Err(std::env::VarError::NotPresent) => Ok(Self::DEFAULT),
                Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                    "{}: not valid UTF-8; write a size such as 64M",
                    Self::ENV
                )),
            })
            .clone()
            .map_err(crate::core::Error::Invalid)
    }

    /// `67108864`, `64M`, `64MiB`, `512k`, `1G`.
    pub fn parse(text: &str) -> Result<ResultBudget, String> {
        let t = text.trim();
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        let (num, unit) = t.split_at(digits);
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => return Err(format!("\"{text}\" is not a size; write bytes or e.g. 64M")),
        };
        let bytes = num
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(1 << shift))
            .ok_or_else(|| format!("\"{text}\" is not a size; write bytes or e.g. 64M"))?;
        if bytes < Self::MIN.0 {
            return Err(format!("\"{text}\" is below the minimum of {}", Self::MIN));
        }
        Ok(ResultBudget(bytes))
    }

    /// A budget of exactly this many bytes (at least [`Self::MIN`]).
    pub fn new(bytes: u64) -> ResultBudget {
        ResultBudget(bytes.max(Self::MIN.0))
    }

    pub fn bytes(self) -> u64 {
        self.0
    }
}

/// `64 MiB`, `1.5 GiB`, `1000000 bytes`: how messages name the budget.
impl std::fmt::Display for ResultBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
            if n >= 1 << shift {
                return if n.is_multiple_of(1 << shift) {
                    write!(f, "{} {unit}", n >> shift)
                } else {
                    write!(f, "{:.1} {unit}", n as f64 / (1u64 << shift) as f64)
                };
            }
        }
        write!(f, "{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn engine_numbers_keep_their_digits() {
        let rows = vec![vec![
            Value::Number("18446744073709551615".into()),
            Value::Number("1e15".into()),
            Value::Number("-0.5".into()),
            Value::Number("340282366920938463463374607431768211455".into()),
            Value::Number("inf".into()),
        ]];
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).into();
        let text = serde_json::to_string(&JsonRows {
            names: &names,
            rows: &rows,
        })
        .unwrap();
        assert_eq!(
            text,
            r#"[{"a":18446744073709551615,"b":1e15,"c":-0.5,"d":340282366920938463463374607431768211455,"e":"inf"}]"#
        );
        assert_eq!(rows[0][0].to_json(), json!(18446744073709551615u64));
        assert_eq!(rows[0][1].to_text().as_deref(), Some("1e15"));
        assert!(rows[0][0].is_number());
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "0x10", "1e+"] {
            assert!(!is_json_number(bad), "{bad}");
        }
        for good in ["0", "-0", "10", "1.25", "1e5", "1E-5", "-2.5e+10"] {
            assert!(is_json_number(good), "{good}");
        }
    }

    #[test]
    fn json_mapping_follows_the_contract() {
        assert_eq!(Value::Int(7).to_json(), json!(7));
        assert_eq!(Value::Float(1.5).to_json(), json!(1.5));
        let text = |f: f64| Value::Float(f).to_text().unwrap_or_default();
        for (f, want) in [
            (1e-30, "1e-30"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e14, "100000000000000"),
            (1e15, "1e+15"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5, "1.5"),
            (-0.000123456, "-0.000123456"),
            (-0.0, "-0"),
            (1e-310, "1e-310"),
        ] {
            assert_eq!(text(f), want, "{f:e}");
        }
        assert_eq!(Value::Float(f64::NAN).to_json(), json!("NaN"));
        // float4out's thresholds, as psql printed them from PostgreSQL 15.
        let real = |f: f32| Value::Float4(f).to_text().unwrap_or_default();
        for (f, want) in [
            (1e5, "100000"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1e7, "1e+07"),
            (1e15, "1e+15"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (3.4028235e38, "3.4028235e+38"),
            (1.1, "1.1"),
            (-0.0, "-0"),
            (f32::NAN, "NaN"),
            (f32::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(real(f), want, "{f:e}");
        }
        assert_eq!(Value::Float4(1.1).to_json(), json!(1.1));
        assert_eq!(Value::Float4(f32::INFINITY).to_json(), json!("Infinity"));
        assert_eq!(
            Value::Numeric("12345678901234567890.000001".into()).to_json(),
            json!("12345678901234567890.000001")
        );
        assert_eq!(Value::Null.to_json(), Json::Null);
        assert_eq!(
            Value::Bytes(vec![0xde, 0xad, 0x01]).to_json(),
            json!("\\xdead01")
        );
        assert_eq!(
            Value::Array(vec![Value::Int(1), Value::Null]).to_json(),
            json!([1, null])
        );
    }

    #[test]
    fn text_keeps_null_apart_from_empty() {
        assert_eq!(Value::Null.to_text(), None);
        assert_eq!(Value::Text(String::new()).to_text(), Some(String::new()));
        let arr = Value::Array(vec![
            Value::Text("a b".into()),
            Value::Text("c".into()),
            Value::Null,
        ]);
        assert_eq!(arr.to_text().unwrap(), r#"{"a b",c,NULL}"#);
    }

    #[test]
    fn streaming_serialization_matches_to_json() {
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Int(-3),
            Value::Float(2.5),
            Value::Float(f64::INFINITY),
            Value::Numeric("1.10".into()),
            Value::Text("é\u{1b}".into()),
            Value::Bytes(vec![1, 255]),
            Value::Json(r#"{"a": [1, null]}"#.into()),
            Value::Json("null".into()),
            Value::Float4(1e7),
            Value::Float4(1.1),
            Value::Float4(f32::NAN),
            Value::Array(vec![Value::Int(1), Value::Text("x".into())]),
        ];
        for v in values {
            assert_eq!(serde_json::to_value(&v).unwrap(), v.to_json(), "{v:?}");
        }
    }

    #[test]
    fn json_keeps_the_servers_text() {
        let text = r#"{"big": 12345678901234567890123, "p": 1.10, "p": 0.1000000000000000055511151231257827, "e": 1.0e2}"#;
        let v = Value::Json(text.into());
        assert_eq!(v.to_text().as_deref(), Some(text));
        let out = serde_json::to_string(&JsonObject {
            pairs: vec![("j", &v)],
        })
        .unwrap();
        assert_eq!(out, format!(r#"{{"j":{text}}}"#));
    }

    #[test]
    fn json_null_is_not_sql_null_and_other_scalars_stay_raw() {
        let out = |v: Value| serde_json::to_string(&v).unwrap();
        assert_eq!(out(Value::Null), "null");
        assert_eq!(out(Value::Json("null".into())), r#""null""#);
        assert_eq!(out(Value::Json(r#""a""#.into())), r#""a""#);
        assert_eq!(out(Value::Json("1.10".into())), "1.10");
        assert_eq!(out(Value::Json("1.0e2".into())), "1.0e2");
        assert_eq!(out(Value::Json("true".into())), "true");
        assert_eq!(out(Value::Json("[null]".into())), "[null]");
        assert_eq!(
            out(Value::Array(vec![Value::Json("null".into()), Value::Null])),
            r#"["null",null]"#
        );
    }

    #[test]
    fn duplicate_columns_keep_every_cell() {
        let rs = ResultSet {
            columns: vec![
                Column {
                    name: "a".into(),
                    type_name: "int4".into(),
                },
                Column {
                    name: "a".into(),
                    type_name: "int4".into(),
                },
            ],
            rows: vec![vec![Value::Int(1), Value::Int(2)]],
            truncated: false,
        };
        assert_eq!(rs.unique_column_names(), vec!["a", "a_2"]);
        assert_eq!(rs.json_rows()[0], json!({"a": 1, "a_2": 2}));
    }

    #[test]
    fn budgets_parse_and_print_as_people_write_them() {
        assert_eq!(ResultBudget::parse("64M"), Ok(ResultBudget::DEFAULT));
        assert_eq!(ResultBudget::parse(" 64MiB "), Ok(ResultBudget::DEFAULT));
        assert_eq!(ResultBudget::parse("67108864"), Ok(ResultBudget::DEFAULT));
        assert_eq!(
            ResultBudget::parse("2g").map(ResultBudget::bytes),
            Ok(2 << 30)
        );
        assert_eq!(ResultBudget::parse("1024k"), Ok(ResultBudget::MIN));
        for bad in ["", "abc", "64 X", "-1", "1.5M", "99999999999999999999G"] {
            assert!(ResultBudget::parse(bad).is_err(), "{bad}");
        }
        assert!(
            ResultBudget::parse("1000")
                .unwrap_err()
                .contains("minimum of 1 MiB")
        );
        assert_eq!(ResultBudget::DEFAULT.to_string(), "64 MiB");
        assert_eq!(ResultBudget::new(3 << 19).to_string(), "1.5 MiB");
        assert_eq!(ResultBudget::new(1).to_string(), "1 MiB");
    }
}
