//! PostgreSQL cells into [`Value`]s.
//!
//! tokio-postgres always asks the server for binary results, so the connector decodes the
//! binary form itself for the types whose wire format is simple and stable. Every other type
//! (intervals, network addresses, money, ranges, geometry, extension types, …) is cast to
//! `text` on the server instead, so it shows exactly as `psql` shows it and an unknown binary
//! format can never turn into an error.

use std::fmt::Write as _;

use tokio_postgres::types::{FromSql, Kind, Type};

use crate::core::value::Value;

/// A cell's bytes, whatever its type: lets us decode after looking at the type ourselves.
pub(super) struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Types whose binary form [`decode_binary`] understands.
const BINARY_TYPES: [Type; 23] = [
    Type::BOOL,
    Type::INT2,
    Type::INT4,
    Type::INT8,
    Type::OID,
    Type::FLOAT4,
    Type::FLOAT8,
    Type::NUMERIC,
    Type::TEXT,
    Type::VARCHAR,
    Type::BPCHAR,
    Type::NAME,
    Type::UNKNOWN,
    Type::BYTEA,
    Type::UUID,
    Type::JSON,
    Type::JSONB,
    Type::DATE,
    Type::TIME,
    Type::TIMETZ,
    Type::TIMESTAMP,
    Type::TIMESTAMPTZ,
    Type::VOID,
];

/// Whether a column of this type can be read in binary; the others are read as text.
pub(super) fn binary_supported(ty: &Type) -> bool {
    if BINARY_TYPES.contains(ty) {
        return true;
    }
    match ty.kind() {
        Kind::Enum(_) => true,
        Kind::Array(elem) => binary_supported(elem),
        Kind::Domain(base) => binary_supported(base),
        // citext sends its text as is; matching by name is how postgres-types does it too.
        Kind::Simple => ty.name() == "citext",
        _ => false,
    }
}

/// Whether a session TimeZone is UTC under one of its names, so binary timestamps (UTC) show
/// as the session would.
pub(super) fn is_utc(zone: &str) -> bool {
    matches!(
        zone.to_ascii_lowercase().as_str(),
        "utc"
            | "etc/utc"
            | "gmt"
            | "etc/gmt"
            | "uct"
            | "etc/uct"
            | "universal"
            | "etc/universal"
            | "zulu"
            | "etc/zulu"
            | "z"
            | "gmt0"
            | "etc/gmt0"
            | "greenwich"
            | "etc/greenwich"
    )
}

/// A timestamptz, or an array or domain of one.
pub(super) fn has_timestamptz(ty: &Type) -> bool {
    let base = base_type(ty);
    match base.kind() {
        Kind::Array(elem) => *base_type(elem) == Type::TIMESTAMPTZ,
        _ => *base == Type::TIMESTAMPTZ,
    }
}

/// The server's ISO text of a timestamptz (`2024-03-31 00:00:00+05:30`, `… -03`, `… BC`)
/// in tdb's ISO 8601 form: `T` between date and time, the offset as `±HH:MM`.
fn zoned_text(text: &str) -> String {
    let (body, bc) = match text.strip_suffix(" BC") {
        Some(b) => (b, " BC"),
        None => (text, ""),
    };
    let mut s = body.replacen(' ', "T", 1);
    // The offset is the last `+` or `-` after the time's start; psql drops `:00` minutes.
    if let Some(t) = s.find('T')
        && let Some(sign) = s[t..].rfind(['+', '-']).map(|i| t + i)
    {
        let offset = &s[sign + 1..];
        if offset.len() == 2 && offset.bytes().all(|b| b.is_ascii_digit()) {
            s.push_str(":00");
        }
    }
    s.push_str(bc);
    s
}

/// The type's name as `format_type` spells it (what psql's `\d` and the schema pane show):
/// `integer`, `timestamp with time zone`, `text[]`, `mood`.
pub(super) fn type_label(ty: &Type) -> String {
    match ty.kind() {
        Kind::Array(elem) => format!("{}[]", sql_name(elem.name())),
        _ => sql_name(ty.name()).to_string(),
    }
}

/// The SQL spelling of a built-in type's internal name; other names are their own.
fn sql_name(internal: &str) -> &str {
    match internal {
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "bool" => "boolean",
        "bpchar" => "character",
        "varchar" => "character varying",
        "varbit" => "bit varying",
        "timestamptz" => "timestamp with time zone",
        "timestamp" => "timestamp without time zone",
        "timetz" => "time with time zone",
        "time" => "time without time zone",
        other => other,
    }
}

/// A cell of a type [`binary_supported`] accepts. Bytes that do not match the type's format
/// (which a conforming server never sends) come back as [`Value::Bytes`] rather than failing
/// the whole result.
pub(super) fn decode_binary(ty: &Type, raw: Option<&[u8]>) -> Value {
    match raw {
        None => Value::Null,
        Some(raw) => try_binary(ty, raw).unwrap_or_else(|| Value::Bytes(raw.to_vec())),
    }
}

fn try_binary(ty: &Type, raw: &[u8]) -> Option<Value> {
    if let Kind::Domain(base) = ty.kind() {
        return try_binary(base, raw);
    }
    if let Kind::Array(elem) = ty.kind() {
        return decode_array(elem, raw);
    }
    if matches!(ty.kind(), Kind::Enum(_)) || ty.name() == "citext" {
        return Some(Value::Text(String::from_utf8_lossy(raw).into_owned()));
    }
    let v = match ty {
        t if *t == Type::BOOL => Value::Bool(*exact::<1>(raw)?.first()? != 0),
        t if *t == Type::INT2 => Value::Int(i16::from_be_bytes(*exact(raw)?).into()),
        t if *t == Type::INT4 => Value::Int(i32::from_be_bytes(*exact(raw)?).into()),
        t if *t == Type::INT8 => Value::Int(i64::from_be_bytes(*exact(raw)?)),
        t if *t == Type::OID => Value::Int(u32::from_be_bytes(*exact(raw)?).into()),
        t if *t == Type::FLOAT4 => Value::Float4(f32::from_be_bytes(*exact(raw)?)),
        t if *t == Type::FLOAT8 => Value::Float(f64::from_be_bytes(*exact(raw)?)),
        t if *t == Type::NUMERIC => Value::Numeric(numeric_text(raw)?),
        t if *t == Type::BYTEA => Value::Bytes(raw.to_vec()),
        t if *t == Type::UUID => Value::Text(uuid::Uuid::from_slice(raw).ok()?.to_string()),
        t if *t == Type::JSON => json_value(raw),
        t if *t == Type::JSONB => match raw.split_first() {
            Some((1, rest)) => json_value(rest),
            _ => return None,
        },
        t if *t == Type::DATE => Value::Text(date_text(i32::from_be_bytes(*exact(raw)?))),
        t if *t == Type::TIME => Value::Text(time_text(i64::from_be_bytes(*exact(raw)?))),
        t if *t == Type::TIMETZ => {
            let b: &[u8; 12] = exact(raw)?;
            let (micros, zone) = b.split_at(8);
            let micros = i64::from_be_bytes(micros.try_into().ok()?);
            let west = i32::from_be_bytes(zone.try_into().ok()?);
            Value::Text(format!(
                "{}{}",
                time_text(micros),
                offset_text(-i64::from(west))
            ))
        }
        t if *t == Type::TIMESTAMP => {
            Value::Text(timestamp_text(i64::from_be_bytes(*exact(raw)?), ""))
        }
        t if *t == Type::TIMESTAMPTZ => {
            Value::Text(timestamp_text(i64::from_be_bytes(*exact(raw)?), "Z"))
        }
        // void: what a function called for its effect returns; psql shows an empty cell.
        t if *t == Type::VOID => Value::Text(String::new()),
        // text, varchar, bpchar, name, unknown: the server sends UTF-8 (client_encoding).
        _ => Value::Text(String::from_utf8_lossy(raw).into_owned()),
    };
    Some(v)
}

fn exact<const N: usize>(raw: &[u8]) -> Option<&[u8; N]> {
    raw.try_into().ok()
}

/// json and jsonb as the server's text (jsonb's binary form is its version byte and text).
fn json_value(raw: &[u8]) -> Value {
    Value::Json(String::from_utf8_lossy(raw).into_owned())
}

/// Whether a result column is an array (domains arrive as their base type already).
pub(super) fn is_array(ty: &Type) -> bool {
    matches!(base_type(ty).kind(), Kind::Array(_))
}

fn base_type(ty: &Type) -> &Type {
    let mut base = ty;
    while let Kind::Domain(inner) = base.kind() {
        base = inner;
    }
    base
}

/// box is the one built-in type whose array delimiter is not a comma.
fn array_delimiter(elem: &Type) -> char {
    if *elem == Type::BOX { ';' } else { ',' }
}

/// A column the server sent as array text (see the connector's text wrapper): an array
/// column becomes an array of its elements' text, anything else the one element's text.
/// Text that does not parse is kept whole.
pub(super) fn decode_text(ty: &Type, raw: Option<&[u8]>) -> Value {
    let Some(raw) = raw else {
        return Value::Null;
    };
    let text = String::from_utf8_lossy(raw).into_owned();
    let base = base_type(ty);
    let value = match base.kind() {
        Kind::Array(elem) => parse_array_text(&text, array_delimiter(elem)),
        _ => match parse_array_text(&text, array_delimiter(base)) {
            Some(Value::Array(mut one)) if one.len() == 1 => one.pop(),
            _ => None,
        },
    }
    .unwrap_or(Value::Text(text));
    if has_timestamptz(ty) {
        zone_texts(value)
    } else {
        value
    }
}

fn zone_texts(v: Value) -> Value {
    match v {
        Value::Text(t) if t.ends_with("infinity") => Value::Text(t),
        Value::Text(t) => Value::Text(zoned_text(&t)),
        Value::Array(items) => Value::Array(items.into_iter().map(zone_texts).collect()),
        other => other,
    }
}

/// PostgreSQL's binary array format: dimensions, then each element with its length.
fn decode_array(elem: &Type, raw: &[u8]) -> Option<Value> {
    let mut r = Reader(raw);
    let ndim = usize::try_from(r.i32()?).ok()?;
    let _has_nulls = r.i32()?;
    let _elem_oid = r.i32()?;
    let mut dims = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        let len = usize::try_from(r.i32()?).ok()?;
        let _lower_bound = r.i32()?;
        dims.push(len);
    }
    let total = dims.iter().try_fold(1usize, |acc, d| acc.checked_mul(*d))?;
    let mut items = Vec::with_capacity(if ndim == 0 { 0 } else { total.min(1 << 16) });
    if ndim > 0 {
        for _ in 0..total {
            let len = r.i32()?;
            let cell = if len < 0 {
                None
            } else {
                Some(r.take(usize::try_from(len).ok()?)?)
            };
            items.push(decode_binary(elem, cell));
        }
    }
    if !r.0.is_empty() {
        return None;
    }
    Some(nest(items, &dims))
}

/// Splits flat elements into nested arrays, outermost dimension first.
fn nest(items: Vec<Value>, dims: &[usize]) -> Value {
    match dims {
        [] | [_] => Value::Array(items),
        [_, inner @ ..] => {
            let chunk: usize = inner.iter().product();
            if chunk == 0 {
                return Value::Array(Vec::new());
            }
            let mut out = Vec::with_capacity(items.len() / chunk);
            let mut it = items.into_iter();
            loop {
                let part: Vec<Value> = it.by_ref().take(chunk).collect();
                if part.is_empty() {
                    break;
                }
                out.push(nest(part, inner));
            }
            Value::Array(out)
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
}

/// The exact digits of a binary `numeric`, as `numeric_out` prints them.
fn numeric_text(raw: &[u8]) -> Option<String> {
    let mut r = Reader(raw);
    let ndigits = usize::try_from(r.i16()?).ok()?;
    let weight = i32::from(r.i16()?);
    let sign = r.u16()?;
    let dscale = usize::from(r.u16()?);
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => return None,
    }
    let mut digits = Vec::with_capacity(ndigits);
    for _ in 0..ndigits {
        let d = r.i16()?;
        let d = u16::try_from(d).ok().filter(|d| *d < 10_000)?;
        digits.push(d);
    }
    let digit = |i: i32| -> u16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    // Base-10000 groups, pushed digit by digit: `write!` was a fifth of a 1,000-row query.
    let mut s = String::with_capacity(ndigits * 4 + dscale + 3);
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        let first = digit(0);
        let mut started = false;
        for (k, p) in [1000, 100, 10, 1].into_iter().enumerate() {
            let d = first / p % 10;
            if d != 0 || started || k == 3 {
                push_digit(&mut s, d);
                started = true;
            }
        }
        for i in 1..=weight {
            push_group(&mut s, digit(i));
        }
    }
    if dscale > 0 {
        s.push('.');
        let start = s.len();
        let mut i = weight + 1;
        while s.len() - start < dscale {
            push_group(&mut s, digit(i));
            i += 1;
        }
        s.truncate(start + dscale);
    }
    Some(s)
}

/// One decimal digit (0–9).
fn push_digit(s: &mut String, d: u16) {
    s.push(char::from(b'0' + (d % 10) as u8));
}

/// A base-10000 group as its four decimal digits, leading zeros kept.
fn push_group(s: &mut String, g: u16) {
    for p in [1000, 100, 10, 1] {
        push_digit(s, g / p);
    }
}

/// Days since 1970-01-01 of PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

fn date_text(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        d => ymd_text(i64::from(d) + PG_EPOCH_DAYS),
    }
}

fn timestamp_text(micros: i64, zone: &str) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        m => {
            // Built by hand: a result of 1,000 timestamps spent more time in `format!`
            // than in everything else the query did.
            let mut s = String::with_capacity(32);
            let bc = push_ymd(&mut s, m.div_euclid(MICROS_PER_DAY) + PG_EPOCH_DAYS);
            s.push('T');
            push_time(&mut s, m.rem_euclid(MICROS_PER_DAY));
            s.push_str(zone);
            if bc {
                s.push_str(" BC");
            }
            s
        }
    }
}

/// `YYYY-MM-DD` in the proleptic Gregorian calendar, `YYYY-MM-DD BC` before year 1, as
/// PostgreSQL prints dates.
fn ymd_text(unix_days: i64) -> String {
    let mut s = String::with_capacity(15);
    if push_ymd(&mut s, unix_days) {
        s.push_str(" BC");
    }
    s
}

/// Pushes `YYYY-MM-DD` as PostgreSQL prints it and says whether the date is BC: there is no
/// year 0, so ISO year 0 is 1 BC and -1999 is 2000 BC; years past 9999 have more digits.
fn push_ymd(s: &mut String, unix_days: i64) -> bool {
    let (y, m, d) = civil_from_days(unix_days);
    let bc = y <= 0;
    push_digits(s, if bc { 1 - y } else { y }, 4);
    s.push('-');
    push_digits(s, m, 2);
    s.push('-');
    push_digits(s, d, 2);
    bc
}

/// `n` zero-padded to at least `width` digits (`n` is never negative here).
fn push_digits(s: &mut String, n: i64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = i.min(buf.len() - width);
    for &b in &buf[start..] {
        s.push(char::from(b));
    }
}

/// Howard Hinnant's days-to-civil algorithm: exact for every day PostgreSQL can store.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `HH:MM:SS` with the fraction PostgreSQL would print (trailing zeros dropped).
fn time_text(micros: i64) -> String {
    let mut s = String::with_capacity(16);
    push_time(&mut s, micros);
    s
}

fn push_time(s: &mut String, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let mut frac = micros.rem_euclid(1_000_000);
    push_digits(s, secs / 3600, 2);
    s.push(':');
    push_digits(s, (secs / 60) % 60, 2);
    s.push(':');
    push_digits(s, secs % 60, 2);
    if frac > 0 {
        let mut width = 6;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        s.push('.');
        push_digits(s, frac, width);
    }
}

/// `+HH:MM` (or `+HH:MM:SS` for the odd historical zone) from seconds east of UTC.
fn offset_text(east: i64) -> String {
    let sign = if east < 0 { '-' } else { '+' };
    let a = east.abs();
    let mut s = format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60);
    if a % 60 != 0 {
        let _ = write!(s, ":{:02}", a % 60);
    }
    s
}

/// Parses PostgreSQL's array text (`{a,"b c",NULL,{1,2}}`, maybe after `[0:1]=`).
fn parse_array_text(text: &str, delim: char) -> Option<Value> {
    let body = if text.starts_with('[') {
        text.split_once('=')?.1
    } else {
        text
    };
    let chars: Vec<char> = body.chars().collect();
    let mut pos = 0;
    let v = parse_array_level(&chars, &mut pos, delim)?;
    if chars[pos..].iter().all(|c| c.is_whitespace()) {
        Some(v)
    } else {
        None
    }
}

fn parse_array_level(c: &[char], pos: &mut usize, delim: char) -> Option<Value> {
    skip_ws(c, pos);
    if c.get(*pos) != Some(&'{') {
        return None;
    }
    *pos += 1;
    let mut items = Vec::new();
    skip_ws(c, pos);
    if c.get(*pos) == Some(&'}') {
        *pos += 1;
        return Some(Value::Array(items));
    }
    loop {
        skip_ws(c, pos);
        let item = match c.get(*pos)? {
            '{' => parse_array_level(c, pos, delim)?,
            '"' => {
                *pos += 1;
                let mut s = String::new();
                loop {
                    match c.get(*pos)? {
                        '\\' => {
                            s.push(*c.get(*pos + 1)?);
                            *pos += 2;
                        }
                        '"' => {
                            *pos += 1;
                            break;
                        }
                        ch => {
                            s.push(*ch);
                            *pos += 1;
                        }
                    }
                }
                Value::Text(s)
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = c.get(*pos) {
                    if ch == delim || ch == '}' {
                        break;
                    }
                    if ch == '\\' {
                        s.push(*c.get(*pos + 1)?);
                        *pos += 2;
                    } else {
                        s.push(ch);
                        *pos += 1;
                    }
                }
                let s = s.trim();
                if s.eq_ignore_ascii_case("NULL") {
                    Value::Null
                } else {
                    Value::Text(s.to_string())
                }
            }
        };
        items.push(item);
        skip_ws(c, pos);
        match c.get(*pos)? {
            '}' => {
                *pos += 1;
                return Some(Value::Array(items));
            }
            ch if *ch == delim => *pos += 1,
            _ => return None,
        }
    }
}

fn skip_ws(c: &[char], pos: &mut usize) {
    while c.get(*pos).is_some_and(|ch| ch.is_whitespace()) {
        *pos += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(ndigits.to_be_bytes());
        b.extend(weight.to_be_bytes());
        b.extend(sign.to_be_bytes());
        b.extend(dscale.to_be_bytes());
        for d in digits {
            b.extend(d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numeric_keeps_exact_digits() {
        let n = |raw: Vec<u8>| numeric_text(&raw).unwrap();
        assert_eq!(n(numeric(0, 0, 0, 0, &[])), "0");
        assert_eq!(n(numeric(0, 0, 0, 2, &[])), "0.00");
        assert_eq!(n(numeric(1, 0, 0, 0, &[42])), "42");
        // 12345678.9012 = [1234][5678].[9012]
        assert_eq!(n(numeric(3, 1, 0, 4, &[1234, 5678, 9012])), "12345678.9012");
        // -0.000123 = 0.[0001][2300], dscale 6
        assert_eq!(n(numeric(2, -1, 0x4000, 6, &[1, 2300])), "-0.000123");
        // 0.00000123 = 0.[0000][0123]: weight -2 skips a whole zero group
        assert_eq!(n(numeric(1, -2, 0, 8, &[123])), "0.00000123");
        // 10000 = [1] weight 1 with trailing zero group dropped
        assert_eq!(n(numeric(1, 1, 0, 0, &[1])), "10000");
        assert_eq!(n(numeric(1, 0, 0, 3, &[7])), "7.000");
        assert_eq!(n(numeric(0, 0, 0xC000, 0, &[])), "NaN");
        assert_eq!(n(numeric(0, 0, 0xD000, 0, &[])), "Infinity");
        assert_eq!(n(numeric(0, 0, 0xF000, 0, &[])), "-Infinity");
        assert!(numeric_text(&[0, 1]).is_none());
    }

    #[test]
    fn type_labels_are_format_types_spelling() {
        assert_eq!(type_label(&Type::INT4), "integer");
        assert_eq!(type_label(&Type::BPCHAR), "character");
        assert_eq!(
            type_label(&Type::TIMESTAMPTZ_ARRAY),
            "timestamp with time zone[]"
        );
        assert_eq!(type_label(&Type::TEXT), "text");
    }

    #[test]
    fn zoned_timestamps_read_as_iso_8601_with_their_offset() {
        assert_eq!(
            zoned_text("2024-03-31 00:00:00+05:30"),
            "2024-03-31T00:00:00+05:30"
        );
        assert_eq!(
            zoned_text("2024-03-31 00:00:00.5-03"),
            "2024-03-31T00:00:00.5-03:00"
        );
        assert_eq!(
            zoned_text("0001-01-01 12:00:00+00 BC"),
            "0001-01-01T12:00:00+00:00 BC"
        );
        assert!(is_utc("Etc/UTC") && is_utc("UTC") && !is_utc("Asia/Kolkata"));
    }

    #[test]
    fn dates_are_printed_as_postgresql_prints_them() {
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(-1), "1999-12-31");
        assert_eq!(date_text(i32::MAX), "infinity");
        assert_eq!(ymd_text(0), "1970-01-01");
        assert_eq!(ymd_text(-719_528), "0001-01-01 BC");
        assert_eq!(ymd_text(-719_529), "0002-12-31 BC");
        assert_eq!(ymd_text(2_932_897), "10000-01-01");
        assert_eq!(
            timestamp_text(86_400_000_000 + 1_500_000, ""),
            "2000-01-02T00:00:01.5"
        );
        assert_eq!(timestamp_text(-1, "Z"), "1999-12-31T23:59:59.999999Z");
        // Noon of 0001-01-01 BC (ISO year 0), 730,485 days before 2000-01-01.
        let bc = -730_485 * 86_400_000_000 + 12 * 3_600_000_000;
        assert_eq!(timestamp_text(bc, ""), "0001-01-01T12:00:00 BC");
        assert_eq!(time_text(86_400_000_000), "24:00:00");
        assert_eq!(offset_text(-(5 * 3600 + 30 * 60)), "-05:30");
        assert_eq!(offset_text(0), "+00:00");
    }

    #[test]
    fn array_text_splits_elements() {
        assert_eq!(
            parse_array_text(r#"{a,"b c",NULL,"NULL","x\"y"}"#, ','),
            Some(Value::Array(vec![
                Value::Text("a".into()),
                Value::Text("b c".into()),
                Value::Null,
                Value::Text("NULL".into()),
                Value::Text("x\"y".into()),
            ]))
        );
        assert_eq!(
            parse_array_text("[0:1]={{1,2},{3,4}}", ','),
            Some(Value::Array(vec![
                Value::Array(vec![Value::Text("1".into()), Value::Text("2".into())]),
                Value::Array(vec![Value::Text("3".into()), Value::Text("4".into())]),
            ]))
        );
        assert_eq!(parse_array_text("{}", ','), Some(Value::Array(vec![])));
        assert_eq!(parse_array_text("{a", ','), None);
        assert_eq!(parse_array_text("nope", ','), None);
    }

    #[test]
    fn nested_arrays_follow_dimensions() {
        let items: Vec<Value> = (1..=6).map(Value::Int).collect();
        assert_eq!(
            nest(items, &[2, 3]).to_json(),
            serde_json::json!([[1, 2, 3], [4, 5, 6]])
        );
    }
}
