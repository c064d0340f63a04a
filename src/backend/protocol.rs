//! What the UI and the backend say to each other. Every request carries an id its answer
//! repeats, so the UI can drop answers it no longer wants (a cancelled query, an old schema
//! read); the backend also pushes answers on its own under [`PUSHED`].

use std::path::PathBuf;
use std::time::Duration;

use super::engine::QueryOutcome;
use crate::clipboard::Copied;
use crate::core::Result;
use crate::core::draft::SourceDraft;
use crate::core::export::Format;
use crate::core::history::HistoryEntry;
use crate::core::progress::Progress;
use crate::core::schema::SchemaInfo;
use crate::core::source::SourceRecord;
use crate::core::value::{ResultSet, Value};

/// Pairs a [`Response`] with the [`Request`] that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What the UI asks of the backend.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Every live source of the registry.
    ListSources { id: RequestId },
    /// The live schema of a source (imports a CSV first, reporting progress).
    Schema { id: RequestId, source_id: String },
    /// Guard and run SQL on a source: the first `limit` rows are the answer, and the
    /// statement stays open for [`Request::FetchMore`] until no page was asked for in
    /// `idle`.
    Query {
        id: RequestId,
        source_id: String,
        sql: String,
        limit: usize,
        idle: Duration,
    },
    /// Cancel the query started by request `id`, on the server (also a held result's
    /// statement, and the page being fetched from it).
    Cancel { id: RequestId },
    /// The next `rows` rows of the result of query `query`, from the statement the backend
    /// holds open for it (answered by [`Response::Fetched`]).
    FetchMore {
        id: RequestId,
        query: RequestId,
        rows: usize,
    },
    /// The result of query `query` is no longer shown (its tab was closed or replaced):
    /// close its statement. Nothing is answered.
    Release { query: RequestId },
    /// Run SQL again and write every row of it to a file, in the background (answered by
    /// [`Response::Progress`] as it goes, then [`Response::Exported`]); [`Request::Cancel`]
    /// with this `id` stops it and leaves no file.
    ExportAll {
        id: RequestId,
        source_id: String,
        sql: String,
        path: PathBuf,
        format: Format,
        overwrite: bool,
    },
    /// Check that a source can be reached; its status becomes `testing`, then the result.
    Test { id: RequestId, source_id: String },
    /// Put text on the clipboard; `what` names it for the status line (`row`, `20 rows`).
    Copy {
        id: RequestId,
        text: String,
        what: String,
    },
    /// Write a whole result to a file (`~` expanded, relative to tdb's working folder); an
    /// existing file is replaced only with `overwrite`.
    Export {
        id: RequestId,
        result: ResultSet,
        path: PathBuf,
        format: Format,
        overwrite: bool,
    },
    /// Register the source a form describes (audited as `source_registered`).
    AddSource { id: RequestId, draft: SourceDraft },
    /// Change a source to what the form holds now; `before` is what the form started from,
    /// so only changed connection fields are touched.
    EditSource {
        id: RequestId,
        source_id: String,
        before: Box<SourceDraft>,
        draft: Box<SourceDraft>,
    },
    /// Check that the source a form describes can be reached, before saving it. When
    /// editing (`source_id`), an untyped password is the stored one.
    TestDraft {
        id: RequestId,
        source_id: Option<String>,
        draft: SourceDraft,
    },
    /// Delete a source (audited as `source_deleted`); its record stays for the audit trail.
    DeleteSource { id: RequestId, source_id: String },
    /// The runs of a source's history, newest first.
    History { id: RequestId, source_id: String },
    /// The editor text last saved for a source.
    LoadEditorText { id: RequestId, source_id: String },
    /// Keep the editor text of a source for the next start (nothing is answered).
    SaveEditorText { source_id: String, sql: String },
    /// How many bytes a source's caches take on disk (the source detail view).
    CacheSize { id: RequestId, source_id: String },
}

/// What the backend answers, or reports on its own.
#[derive(Debug)]
pub enum Response {
    Sources {
        id: RequestId,
        result: Result<Vec<SourceRecord>>,
    },
    Schema {
        id: RequestId,
        source_id: String,
        result: Result<SchemaInfo>,
    },
    /// How far the import behind request `id` has got.
    Progress { id: RequestId, progress: Progress },
    QueryDone {
        id: RequestId,
        result: Result<QueryOutcome>,
    },
    /// The next rows of a held result (`more`: the statement has rows after them), or why
    /// not.
    Fetched {
        id: RequestId,
        query: RequestId,
        result: Result<(Vec<Vec<Value>>, bool)>,
    },
    /// The backend closed the statement it held for query `query` on its own: `why` (idle
    /// too long, room needed for another).
    Released { query: RequestId, why: String },
    /// A source test: the round trip and what the test warns of (a role that can write).
    Tested {
        id: RequestId,
        source_id: String,
        result: Result<(Duration, Vec<String>)>,
    },
    /// A source's record changed (its status, after a query, a schema read or a test).
    SourceChanged { source: SourceRecord },
    /// The clipboard took the text (and how), or could not. The UI must write
    /// [`Copied::terminal_write`] to the terminal for the copy to happen.
    Copied {
        id: RequestId,
        what: String,
        result: Result<Copied>,
    },
    /// An export finished: the bytes written to `path` (made absolute), or why not
    /// ([`Error::Conflict`] when the file exists and `overwrite` was not given).
    Exported {
        id: RequestId,
        path: PathBuf,
        rows: usize,
        result: Result<usize>,
    },
    /// A source was added or edited, as stored now.
    SourceSaved {
        id: RequestId,
        result: Result<SourceRecord>,
    },
    /// How long reaching a form's source took, or why it could not be reached.
    DraftTested {
        id: RequestId,
        result: Result<Duration>,
    },
    SourceDeleted {
        id: RequestId,
        result: Result<SourceRecord>,
    },
    History {
        id: RequestId,
        source_id: String,
        result: Result<Vec<HistoryEntry>>,
    },
    /// The bytes of a source's caches.
    CacheSize {
        id: RequestId,
        source_id: String,
        bytes: u64,
    },
    /// The saved editor text of a source (`None`: never saved, or unreadable, which is logged).
    EditorText {
        id: RequestId,
        source_id: String,
        sql: Option<String>,
    },
}

/// The id of answers nobody asked for: the source list sent again because another process
/// changed the registry.
pub const PUSHED: RequestId = RequestId(0);
