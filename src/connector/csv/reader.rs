//! Reading CSV records from a byte stream with csv_core, keeping what an error message needs:
//! the line a record starts on (1-based, as a text editor counts, embedded newlines
//! included), the field, the byte.
//!
//! csv_core handles the RFC 4180 grammar (quotes, doubled quotes, quoted newlines, CRLF or
//! LF) and strips a UTF-8 BOM. What it leaves to us, done here:
//! - an unterminated quote: csv_core silently treats the rest of the file as the field; we
//!   detect it and say which line the quote opened on;
//! - invalid UTF-8: an error naming the line, the field and the byte (tdb stores text, and
//!   guessing an encoding would silently change the data);
//! - a bound on one record's size ([`MAX_RECORD_BYTES`]), so a stray quote cannot make us
//!   hold a whole multi-gigabyte file in memory.
//!
//! Blank lines between records are skipped (csv_core's rule), so a single-column file
//! cannot hold an empty value as a blank line; write `""` instead.

use std::io::Read;

use crate::core::{Error, Result};

/// The largest record tdb accepts (all fields together).
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// The most fields one record may have: a bound, so a line of delimiters cannot take the
/// reader's memory.
pub const MAX_FIELDS: usize = 20_000;

const READ_CHUNK: usize = 1 << 20;

/// Only error paths count lines inside a record, so a plain loop is fast enough.
fn count_newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Where the reader is: reading the file, feeding the end-of-data probe, or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Data,
    Probe,
    Final,
    Done,
}

pub struct RecordReader<R> {
    src: R,
    core: csv_core::Reader,
    /// What `src` handed us and csv_core has not consumed yet: `buf[pos..len]`.
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    phase: Phase,
    /// Unescaped field bytes of the current record, and where each field ends.
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    n_fields: usize,
    /// The line the current record's last byte is on.
    last_line: u64,
    bytes_consumed: u64,
    label: String,
}

/// One record, borrowed from the reader until the next call.
pub struct Record<'a> {
    data: &'a [u8],
    ends: &'a [usize],
    last_line: u64,
}

impl<'a> Record<'a> {
    /// The line the record starts on. Counted only when asked (error messages), as it
    /// scans the record.
    pub fn line(&self) -> u64 {
        self.last_line
            .saturating_sub(count_newlines(self.data))
            .max(1)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`, already checked to be UTF-8.
    pub fn field(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

}

impl<R: Read> RecordReader<R> {
    /// `label` names the file in error messages.
    pub fn new(src: R, delimiter: u8, label: String) -> Self {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(csv_core::Terminator::CRLF)
            .build();
        RecordReader {
            src,
            core,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            len: 0,
            phase: Phase::Data,
            out: vec![0; 64 << 10],
            ends: vec![0; 64],
            out_len: 0,
            n_fields: 0,
            last_line: 1,
            bytes_consumed: 0,
            label,
        }
    }


    /// Bytes of the file consumed so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.bytes_consumed
    }

    fn error(&self, line: u64, what: impl std::fmt::Display) -> Error {
        Error::QueryFailed(format!("{}: line {line}: {what}", self.label))
    }

    /// The line the record being assembled started on.
    fn start_line(&self, last_line: u64) -> u64 {
        let embedded = count_newlines(&self.out[..self.out_len]);
        last_line.saturating_sub(embedded).max(1)
    }

    /// The next record, `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        use csv_core::ReadRecordResult as R;
        self.out_len = 0;
        self.n_fields = 0;
        loop {
            // The input csv_core sees next: file bytes, then one '\n' (the probe, see
            // `Phase::Probe`), then nothing (end of data).
            let input: &[u8] = match self.phase {
                Phase::Done => return Ok(None),
                Phase::Data => {
                    if self.pos == self.len && !self.refill()? {
                        self.phase = Phase::Probe;
                        continue;
                    }
                    &self.buf[self.pos..self.len]
                }
                Phase::Probe => b"\n",
                Phase::Final => &[],
            };
            let (res, nin, nout, nend) = self.core.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.n_fields..],
            );
            let terminator = nin.checked_sub(1).map(|i| input[i]);
            self.out_len += nout;
            self.n_fields += nend;
            match self.phase {
                Phase::Data => {
                    self.pos += nin;
                    self.bytes_consumed += nin as u64;
                }
                Phase::Probe => {
                    // The file has ended. A '\n' now completes a pending record exactly as
                    // the end of data would, unless a quoted field is still open: then the
                    // '\n' becomes field content (nout > 0) and the record never ends.
                    if res == R::InputEmpty {
                        if nout > 0 {
                            // The probe '\n' is in `out` and counted by csv_core alike.
                            let line = self.start_line(self.core.line());
                            return Err(self.error(
                                line,
                                "a quoted field opened on this line is never closed (unterminated quote)",
                            ));
                        }
                        self.phase = Phase::Final;
                        continue;
                    }
                    if nin > 0 {
                        self.phase = Phase::Final;
                    }
                }
                Phase::Final | Phase::Done => {}
            }
            match res {
                R::InputEmpty => {}
                R::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        let line = self.start_line(self.core.line());
                        return Err(self.error(
                            line,
                            format_args!(
                                "a record longer than {} MiB starts here (is a quote left open?)",
                                MAX_RECORD_BYTES >> 20
                            ),
                        ));
                    }
                    let grown = (self.out.len() * 2).min(MAX_RECORD_BYTES);
                    self.out.resize(grown, 0);
                }
                R::OutputEndsFull => {
                    if self.ends.len() > MAX_FIELDS {
                        let line = self.start_line(self.core.line());
                        return Err(self.error(
                            line,
                            format_args!("more than {MAX_FIELDS} fields in one record"),
                        ));
                    }
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                R::Record => {
                    // After a '\n' terminator csv_core has already counted the next line.
                    self.last_line = match terminator {
                        Some(b'\n') => self.core.line().saturating_sub(1),
                        _ => self.core.line(),
                    };
                    return self.finish_record().map(Some);
                }
                R::End => {
                    self.phase = Phase::Done;
                    return Ok(None);
                }
            }
        }
    }

    fn refill(&mut self) -> Result<bool> {
        loop {
            match self.src.read(&mut self.buf) {
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::Unreachable(format!(
                        "cannot read {}: {e}",
                        self.label
                    )));
                }
            }
        }
    }

    fn finish_record(&self) -> Result<Record<'_>> {
        let data = &self.out[..self.out_len];
        let ends = &self.ends[..self.n_fields];
        if let Err(e) = std::str::from_utf8(data) {
            let line = self.start_line(self.last_line);
            let at = e.valid_up_to();
            let field = ends.iter().take_while(|&&end| end <= at).count() + 1;
            let field_start = if field > 1 { ends[field - 2] } else { 0 };
            let bad_line = line + count_newlines(&data[..at]);
            return Err(self.error(
                bad_line,
                format_args!(
                    "field {field}: invalid UTF-8 (byte 0x{:02X} at offset {} of the field); tdb reads UTF-8 text only: convert the file first, e.g. with iconv -f latin1 -t utf-8",
                    data[at],
                    at - field_start
                ),
            ));
        }
        Ok(Record {
            data,
            ends,
            last_line: self.last_line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8]) -> Result<Vec<(u64, Vec<String>)>> {
        let mut r = RecordReader::new(text, b',', "t.csv".into());
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            let fields = (0..rec.len())
                .map(|i| String::from_utf8(rec.field(i).to_vec()).unwrap())
                .collect();
            out.push((rec.line(), fields));
        }
        Ok(out)
    }

    fn rows(v: &[(u64, &[&str])]) -> Vec<(u64, Vec<String>)> {
        v.iter()
            .map(|(l, f)| (*l, f.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn lines_count_embedded_newlines_and_crlf() {
        let got = read_all(b"\xEF\xBB\xBFa,b\r\n\"x\r\ny\",2\r\n\r\nlast,\"q\"\"\"").unwrap();
        assert_eq!(
            got,
            rows(&[
                (1, &["a", "b"]),
                (2, &["x\r\ny", "2"]),
                (5, &["last", "q\""]),
            ])
        );
    }

    #[test]
    fn last_record_without_newline_and_trailing_delimiter() {
        let got = read_all(b"a,b\n1,").unwrap();
        assert_eq!(got, rows(&[(1, &["a", "b"]), (2, &["1", ""])]));
        assert_eq!(read_all(b"").unwrap(), rows(&[]));
        assert_eq!(read_all(b"\n\n").unwrap(), rows(&[]));
        // A closed quote at the very end is fine.
        let got = read_all(b"a\n\"x\"").unwrap();
        assert_eq!(got, rows(&[(1, &["a"]), (2, &["x"])]));
    }

    #[test]
    fn unterminated_quote_names_its_line() {
        let e = read_all(b"a,b\n1,2\n3,\"open\nmore\n").unwrap_err();
        assert_eq!(
            e.detail(),
            "t.csv: line 3: a quoted field opened on this line is never closed (unterminated quote)"
        );
        let e = read_all(b"a\n\"").unwrap_err();
        assert!(e.detail().contains("line 2"), "{e}");
    }

    #[test]
    fn invalid_utf8_names_line_field_and_byte() {
        let e = read_all(b"a,b\n1,\"x\ncaf\xE9\"\n").unwrap_err();
        assert!(matches!(e, Error::QueryFailed(_)));
        assert!(
            e.detail()
                .starts_with("t.csv: line 3: field 2: invalid UTF-8 (byte 0xE9 at offset 5"),
            "{e}"
        );
    }

    #[test]
    fn big_fields_grow_the_buffer() {
        let big = "z".repeat(3 << 20);
        let got = read_all(format!("a,b\n\"{big}\",1\n").as_bytes()).unwrap();
        assert_eq!(got[1].1[0].len(), 3 << 20);
    }
}
