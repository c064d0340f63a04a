//! Column type inference: which types a CSV value can be stored as without losing anything.
//!
//! A column gets the first of integer, real, boolean, date, timestamp that EVERY non-empty
//! value of it fits, else text. "Fits" is strict on purpose, so that a value stored typed
//! reads back as the same information the file held:
//!
//! - integer: `-?(0|[1-9][0-9]*)` within i64. `007`, `+5`, `-0`, ` 5` and `1_000` do not fit,
//!   so a zip-code column such as `02134` stays text with its leading zero.
//! - real: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` with at most 15 significant
//!   digits (every such decimal survives a round trip through f64) and a finite, normal
//!   result. `1.50` reads back as 1.5 (same number); `0.1000000000000000055` does not fit, nor
//!   do `inf`, `NaN`, `.5`, `5.` or `1,5`. Integers fit real too when short enough, so a
//!   column of `1` and `2.5` is real.
//! - boolean: `true` or `false`, any letter case. Not `0/1` (integers), `yes/no` or `t/f`.
//! - date: `YYYY-MM-DD`, a real calendar day.
//! - timestamp: a date, then `T` or a space, `HH:MM`, optional `:SS`, optional `.` and 1–9
//!   digits after seconds, optional `Z` or `±HH:MM` / `±HHMM` / `±HH`. A date alone fits
//!   timestamp too, so a column mixing both is timestamp. Dates and timestamps are stored
//!   exactly as written (no normalisation): they are ISO 8601 already, and a user comparing
//!   `created_at >= '2024-01-05 10:00'` gets the answer their file's text implies.
//!
//! Empty fields (`,,` or `,"",`) are NULL and fit every type.

/// A set of types a column may still have: bits of [`INT`], [`REAL`], ….
pub type Mask = u8;

pub const INT: Mask = 1;
pub const REAL: Mask = 2;
pub const BOOL: Mask = 4;
pub const DATE: Mask = 8;
pub const TS: Mask = 16;
pub const ALL: Mask = INT | REAL | BOOL | DATE | TS;

/// The type a column is reported and stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    Integer,
    Real,
    Boolean,
    Date,
    Timestamp,
    Text,
}

impl ColumnType {
    /// The name `tdb source schema` shows.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Real => "real",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Text => "text",
        }
    }

    /// The declared type in the cache's `CREATE TABLE`. Its SQLite affinity matches what is
    /// stored: INTEGER, REAL, NUMERIC for 0/1, and TEXT for dates and timestamps (ISO text,
    /// so `created_at < '2024'` compares text, never the number 2024). `column_decltype`
    /// gives it back so a result knows a 1 is `true`.
    pub fn decl(self) -> &'static str {
        match self {
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Date => "DATE TEXT",
            ColumnType::Timestamp => "TIMESTAMP TEXT",
            ColumnType::Text => "TEXT",
        }
    }

    pub fn from_decl(decl: &str) -> Option<Self> {
        [
            ColumnType::Integer,
            ColumnType::Real,
            ColumnType::Boolean,
            ColumnType::Date,
            ColumnType::Timestamp,
            ColumnType::Text,
        ]
        .into_iter()
        .find(|t| t.decl().eq_ignore_ascii_case(decl))
    }

    /// The narrowest type a mask allows, in the order the module doc gives.
    pub fn from_mask(mask: Mask) -> Self {
        if mask & INT != 0 {
            ColumnType::Integer
        } else if mask & REAL != 0 {
            ColumnType::Real
        } else if mask & BOOL != 0 {
            ColumnType::Boolean
        } else if mask & DATE != 0 {
            ColumnType::Date
        } else if mask & TS != 0 {
            ColumnType::Timestamp
        } else {
            ColumnType::Text
        }
    }
}

/// What one column has shown so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnState {
    /// Types every non-empty value so far fits.
    pub mask: Mask,
    /// A non-empty value was seen (an all-NULL column is text).
    pub seen: bool,
}

impl Default for ColumnState {
    fn default() -> Self {
        ColumnState {
            mask: ALL,
            seen: false,
        }
    }
}

impl ColumnState {
    /// The type values are stored as right now; `None` while only NULLs were seen.
    pub fn current(self) -> Option<ColumnType> {
        self.seen.then(|| ColumnType::from_mask(self.mask))
    }

    /// The type the column ends up with.
    pub fn final_type(self) -> ColumnType {
        self.current().unwrap_or(ColumnType::Text)
    }
}

/// Whether rows already stored as `from` are still right once the column is `to`, without
/// rewriting them. NULL-only columns can become anything; integers read back as reals
/// through REAL affinity; dates and timestamps are stored as their own text.
pub fn widening_is_free(from: Option<ColumnType>, to: ColumnType) -> bool {
    use ColumnType::*;
    match from {
        None => true,
        Some(f) if f == to => true,
        Some(Integer) => to == Real,
        Some(Date) => matches!(to, Timestamp | Text),
        Some(Timestamp) => to == Text,
        Some(_) => false,
    }
}

/// The subset of `mask` that the non-empty value `v` fits. Only the types still in `mask`
/// are checked, so a column that is already text costs nothing.
pub fn fits(v: &[u8], mask: Mask) -> Mask {
    let mut out = 0;
    if mask & (INT | REAL) != 0 {
        out |= number_fits(v).mask & mask;
    }
    if mask & BOOL != 0 && parse_bool(v).is_some() {
        out |= BOOL;
    }
    if mask & (DATE | TS) != 0 {
        out |= temporal_fits(v) & mask;
    }
    out
}

/// A number [`number_fits`] accepted, in the forms it fits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Number {
    pub mask: Mask,
    pub int: i64,
    pub real: f64,
}

/// Exact powers of ten as f64 (10^22 is the largest that is exact).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// INT and/or REAL for a number in canonical form, with its values.
pub fn number_fits(v: &[u8]) -> Number {
    fast_number(v).unwrap_or_else(|| slow_number(v))
}

/// [`number_fits`] in one pass for the common shapes (`-?digits(.digits)?`, at most 19
/// digits, no exponent); `None` sends anything else to [`slow_number`].
#[inline]
fn fast_number(v: &[u8]) -> Option<Number> {
    let (neg, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    let mut mantissa: u64 = 0;
    let mut int_len = 0;
    let mut frac_len = 0;
    let mut in_frac = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                if in_frac {
                    frac_len += 1;
                } else {
                    int_len += 1;
                }
            }
            b'.' if !in_frac => in_frac = true,
            _ => return None,
        }
    }
    if int_len + frac_len > 19 {
        return None;
    }
    if int_len == 0 || (int_len > 1 && digits[0] == b'0') || (in_frac && frac_len == 0) {
        return Some(Number::default());
    }
    let mut out = Number::default();
    let negative_zero = neg && mantissa == 0;
    if !in_frac && !negative_zero {
        let value = if neg {
            0i64.checked_sub_unsigned(mantissa)
        } else {
            i64::try_from(mantissa).ok()
        };
        if let Some(value) = value {
            out.mask |= INT;
            out.int = value;
        }
    }
    // Trailing zeros of the fraction and leading zeros do not count as significant.
    let frac_digits = &digits[digits.len() - frac_len..];
    let trailing = frac_digits.iter().rev().take_while(|&&b| b == b'0').count();
    let mut significant = int_len + frac_len - trailing;
    if mantissa == 0 {
        significant = 0;
    } else if int_len == 1 && digits[0] == b'0' {
        let leading = frac_digits.iter().take_while(|&&b| b == b'0').count();
        significant -= 1 + leading;
    }
    // Below 2^53 the mantissa is exact in f64, and so is 10^k for k <= 22: one IEEE
    // division of exact values is correctly rounded.
    if significant <= 15 && mantissa < (1 << 53) && frac_len < POW10.len() {
        let f = mantissa as f64 / POW10[frac_len];
        if f.is_normal() || f == 0.0 {
            out.mask |= REAL;
            out.real = if neg { -f } else { f };
        }
    } else if significant <= 15 {
        return None;
    }
    Some(out)
}

fn slow_number(v: &[u8]) -> Number {
    const NONE: Number = Number {
        mask: 0,
        int: 0,
        real: 0.0,
    };
    let (neg, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    let int_len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len == 0 || (int_len > 1 && digits[0] == b'0') {
        return NONE;
    }
    let (int_part, mut rest) = digits.split_at(int_len);
    let mut frac: &[u8] = &[];
    if let Some((b'.', after)) = rest.split_first() {
        let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return NONE;
        }
        frac = &after[..n];
        rest = &after[n..];
    }
    let mut has_exp = false;
    if let Some((b'e' | b'E', after)) = rest.split_first() {
        let after = match after.split_first() {
            Some((b'+' | b'-', a)) => a,
            _ => after,
        };
        let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return NONE;
        }
        has_exp = true;
        rest = &after[n..];
    }
    if !rest.is_empty() {
        return NONE;
    }
    let mut out = NONE;
    if frac.is_empty() && !has_exp && !(neg && int_part == b"0") {
        // Accumulate negatively so i64::MIN parses.
        let mut acc: Option<i64> = Some(0);
        for &d in int_part {
            acc = acc
                .and_then(|a| a.checked_mul(10))
                .and_then(|a| a.checked_sub(i64::from(d - b'0')));
        }
        let value = if neg {
            acc
        } else {
            acc.and_then(i64::checked_neg)
        };
        if let Some(value) = value {
            out.mask |= INT;
            out.int = value;
        }
    }
    // Significant digits: leading zeros of the whole and trailing zeros of the fraction
    // do not count.
    let frac = {
        let keep = frac.len() - frac.iter().rev().take_while(|&&b| b == b'0').count();
        &frac[..keep]
    };
    let leading_zeros = int_part
        .iter()
        .chain(frac)
        .take_while(|&&b| b == b'0')
        .count();
    let significant = (int_part.len() + frac.len()).saturating_sub(leading_zeros);
    if significant > 15 {
        return out;
    }
    let real = if !has_exp && frac.len() < POW10.len() {
        // At most 15 digits make an integer below 2^53, exact in f64, and so is 10^k for
        // k <= 22: one IEEE division of two exact values is the correctly rounded result.
        let mantissa = int_part
            .iter()
            .chain(frac)
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        let f = mantissa as f64 / POW10[frac.len()];
        Some(if neg { -f } else { f })
    } else {
        parse_real(v)
    };
    if let Some(f) = real
        && (f.is_normal() || (f == 0.0 && significant == 0))
    {
        out.mask |= REAL;
        out.real = f;
    }
    out
}

/// The f64 of a decimal in the grammar of [`number_fits`]; `None` for overflow and for
/// results too small to keep 15 digits.
pub fn parse_real(v: &[u8]) -> Option<f64> {
    let f: f64 = std::str::from_utf8(v).ok()?.parse().ok()?;
    let all_zero = v
        .iter()
        .take_while(|b| !matches!(b, b'e' | b'E'))
        .all(|b| matches!(b, b'0' | b'-' | b'.'));
    (f.is_normal() || (f == 0.0 && all_zero)).then_some(f)
}

pub fn parse_bool(v: &[u8]) -> Option<bool> {
    if v.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if v.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

/// DATE|TS for a date, TS for a timestamp, else 0.
pub fn temporal_fits(v: &[u8]) -> Mask {
    if v.len() < 10 || !is_date(&v[..10]) {
        return 0;
    }
    if v.len() == 10 {
        return DATE | TS;
    }
    if is_time_part(&v[10..]) { TS } else { 0 }
}

fn two_digits(v: &[u8]) -> Option<u32> {
    match v {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
        _ => None,
    }
}

fn is_date(v: &[u8]) -> bool {
    if v.len() != 10 || v[4] != b'-' || v[7] != b'-' || !v[..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let year = v[..4]
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    let (Some(month), Some(day)) = (two_digits(&v[5..7]), two_digits(&v[8..10])) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `[T ]HH:MM[:SS[.f{1,9}]][Z|±HH[:?MM]]`, the part after the date.
fn is_time_part(v: &[u8]) -> bool {
    let hm = |s: &[u8]| -> bool {
        s.len() == 5
            && s[2] == b':'
            && two_digits(&s[..2]).is_some_and(|h| h <= 23)
            && two_digits(&s[3..5]).is_some_and(|m| m <= 59)
    };
    if v.len() < 6 || !matches!(v[0], b'T' | b' ') || !hm(&v[1..6]) {
        return false;
    }
    let mut rest = &v[6..];
    if let [b':', a, b, tail @ ..] = rest {
        if two_digits(&[*a, *b]).is_none_or(|s| s > 59) {
            return false;
        }
        rest = tail;
        if let [b'.', tail @ ..] = rest {
            let n = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return false;
            }
            rest = &tail[n..];
        }
    }
    match rest {
        [] | [b'Z'] => true,
        [b'+' | b'-', zone @ ..] => match zone {
            [h1, h2] => two_digits(&[*h1, *h2]).is_some_and(|h| h <= 23),
            [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                two_digits(&[*h1, *h2]).is_some_and(|h| h <= 23)
                    && two_digits(&[*m1, *m2]).is_some_and(|m| m <= 59)
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &str) -> Mask {
        fits(v.as_bytes(), ALL)
    }

    #[test]
    fn integers_must_be_canonical() {
        assert_eq!(f("0"), INT | REAL);
        assert_eq!(f("42"), INT | REAL);
        assert_eq!(f("-17"), INT | REAL);
        assert_eq!(number_fits(b"-9223372036854775808").int, i64::MIN);
        assert_eq!(number_fits(b"-9223372036854775808").mask, INT);
        assert_eq!(number_fits(b"9223372036854775807").int, i64::MAX);
        assert_eq!(f("9223372036854775808"), 0, "beyond i64 and 19 digits");
        for v in [
            "007", "02134", "+5", "-0", " 5", "5 ", "1_000", "0x10", "", "-", "1-",
        ] {
            assert_eq!(f(v) & INT, 0, "{v:?}");
        }
        assert_eq!(f("-0"), REAL, "-0 is a real, not an integer");
    }

    #[test]
    fn reals_keep_their_digits() {
        for v in [
            "1.5",
            "1.50",
            "-0.25",
            "1e5",
            "2.5E-3",
            "0.000001",
            "123456789012345",
        ] {
            assert_eq!(f(v) & REAL, REAL, "{v:?}");
        }
        for v in [
            "1234567890123456", // 16 digits
            "0.1000000000000000055",
            ".5",
            "5.",
            "1,5",
            "inf",
            "NaN",
            "1e400",
            "1e-400",
            "00.5",
            "1e",
        ] {
            assert_eq!(f(v) & REAL, 0, "{v:?}");
        }
        assert_eq!(parse_real(b"1.50"), Some(1.5));
        assert_eq!(number_fits(b"-0.0").real, 0.0);
        assert_eq!(number_fits(b"0.000").mask, REAL);
        assert_eq!(parse_real(b"0.0"), Some(0.0));
        assert_eq!(
            f("1.0000000000000000000"),
            REAL,
            "trailing zeros do not count"
        );
    }

    #[test]
    fn fast_real_path_matches_std_parsing() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 15 + 1) as usize;
            let frac = (x >> 8) as usize % (digits + 1);
            let mut s = format!(
                "{:0width$}",
                (x >> 16) % 10u64.pow(digits as u32),
                width = digits
            );
            s.insert(digits - frac, '.');
            let s = s.trim_end_matches('.').trim_start_matches('0').to_string();
            let s = if s.starts_with('.') || s.is_empty() {
                format!("0{s}")
            } else {
                s
            };
            let n = number_fits(s.as_bytes());
            if n.mask & REAL != 0 {
                assert_eq!(n.real, s.parse::<f64>().unwrap(), "{s}");
            }
        }
    }

    #[test]
    fn fast_and_slow_number_paths_agree() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "7",
            "-7",
            "007",
            "0.5",
            "-0.5",
            "0.000",
            "10.50",
            "1.",
            ".5",
            "-",
            "",
            "1.2.3",
            "123456789012345",
            "1234567890123456",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "0.000000000000001",
            "0.1000000000000000",
            "12345678901234.5",
            "9007199254740993",
            "1-2",
            "1e5",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 7;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let alphabet = b"0123456789.-";
            let len = (x % 21) as usize;
            cases.push(
                (0..len)
                    .map(|k| alphabet[((x >> (k * 3)) % 12) as usize] as char)
                    .collect(),
            );
        }
        for c in cases {
            let v = c.as_bytes();
            if let Some(fast) = fast_number(v) {
                let slow = slow_number(v);
                assert_eq!(fast.mask, slow.mask, "{c:?}");
                if fast.mask & INT != 0 {
                    assert_eq!(fast.int, slow.int, "{c:?}");
                }
                if fast.mask & REAL != 0 {
                    assert_eq!(fast.real.to_bits(), slow.real.to_bits(), "{c:?}");
                }
            }
        }
    }

    #[test]
    fn booleans_dates_timestamps() {
        assert_eq!(f("true"), BOOL);
        assert_eq!(f("FALSE"), BOOL);
        assert_eq!(f("yes"), 0);
        assert_eq!(f("2024-02-29"), DATE | TS);
        assert_eq!(f("2023-02-29"), 0);
        assert_eq!(f("2024-13-01"), 0);
        assert_eq!(f("2024-1-5"), 0);
        for v in [
            "2024-01-05T10:00",
            "2024-01-05 10:00:59",
            "2024-01-05T10:00:00.123456789",
            "2024-01-05T10:00:00Z",
            "2024-01-05T10:00:00+02:00",
            "2024-01-05T10:00:00-0530",
            "2024-01-05T10:00+01",
        ] {
            assert_eq!(f(v), TS, "{v:?}");
        }
        for v in [
            "2024-01-05T24:00",
            "2024-01-05T10:60",
            "2024-01-05T10",
            "2024-01-05T10:00:00.",
            "2024-01-05T10:00:00.1234567890",
            "2024-01-05x10:00",
            "2024-01-05T10:00:00 UTC",
        ] {
            assert_eq!(f(v), 0, "{v:?}");
        }
    }

    #[test]
    fn type_order_and_widening() {
        let fold = |vals: &[&str]| {
            let mut st = ColumnState::default();
            for v in vals {
                st.mask &= f(v);
                st.seen = true;
            }
            st.final_type()
        };
        assert_eq!(fold(&["1", "2"]), ColumnType::Integer);
        assert_eq!(fold(&["1", "2.5"]), ColumnType::Real);
        assert_eq!(fold(&["1", "1234567890123456"]), ColumnType::Integer);
        assert_eq!(fold(&["2.5", "1234567890123456"]), ColumnType::Text);
        assert_eq!(fold(&["true", "False"]), ColumnType::Boolean);
        assert_eq!(fold(&["1", "true"]), ColumnType::Text);
        assert_eq!(
            fold(&["2024-01-01", "2024-01-02T03:04"]),
            ColumnType::Timestamp
        );
        assert_eq!(fold(&["02134", "12345"]), ColumnType::Text);
        assert_eq!(ColumnState::default().final_type(), ColumnType::Text);

        use ColumnType::*;
        assert!(widening_is_free(None, Boolean));
        assert!(widening_is_free(Some(Integer), Real));
        assert!(widening_is_free(Some(Date), Text));
        assert!(!widening_is_free(Some(Integer), Text));
        assert!(!widening_is_free(Some(Real), Text));
        assert!(!widening_is_free(Some(Boolean), Text));
    }
}
