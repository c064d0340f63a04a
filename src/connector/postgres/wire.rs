//! What a PostgreSQL server can make tdb allocate, and no password in cleartext over an
//! unencrypted wire.
//!
//! tokio-postgres' codec trusts a backend message's length header and reserves that much
//! before reading the body, so a server (or whoever answers for it on a plain connection)
//! replying with a length of 0x7ffffff0 made tdb allocate 2 GB before anything failed.
//! [`Guarded`] sits under the codec, follows the framing (one type byte, then a 4-byte
//! big-endian length that counts itself) as bytes pass, and fails the read in which a length
//! over the result budget shows up, so the codec never holds that header whole. On a TLS
//! connection it sits above the TLS session, where the frames are; TLS records below are
//! rustls's to bound.
//!
//! The same place sees the server's authentication request before tokio-postgres answers it.
//! With `sslmode=prefer`, a server (or an attacker answering for it) that declines TLS would
//! otherwise receive the password as is, as libpq sends it. So on an unencrypted TCP
//! connection a request for the password in cleartext is refused unless the source says
//! `sslmode=disable` (libpq's `require_auth` is the model). A Unix socket has no wire to
//! listen on, so it is exempt.
//!
//! tokio-postgres only reports "connection closed" to a query whose connection died, so a
//! failure after the session started is also left in [`Policy::failure`] for that query.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::Host;
use tokio_postgres::tls::{ChannelBinding, NoTls, TlsConnect, TlsStream};

use crate::core::value::ResultBudget;

/// Backend message types this layer looks into.
const AUTHENTICATION: u8 = b'R';
const DATA_ROW: u8 = b'D';
const READY_FOR_QUERY: u8 = b'Z';
/// AuthenticationCleartextPassword's code.
const CLEARTEXT_PASSWORD: u32 = 3;

/// What every connection of one source checks, and where it leaves a failure.
pub(in crate::connector::postgres) struct Policy {
    pub budget: ResultBudget,
    pub cleartext_allowed: bool,
    /// `host:port`, for messages.
    pub target: String,
    failure: Mutex<Option<WireError>>,
}

impl Policy {
    pub fn new(budget: ResultBudget, cleartext_allowed: bool, target: String) -> Policy {
        Policy {
            budget,
            cleartext_allowed,
            target,
            failure: Mutex::new(None),
        }
    }

    /// The failure a connection of this source hit after its session started, once.
    pub fn take_failure(&self) -> Option<WireError> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }

    fn record(&self, e: &WireError) {
        if let Ok(mut f) = self.failure.lock() {
            *f = Some(e.clone());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::connector::postgres) enum WireError {
    /// A DataRow longer than the budget: the row alone would not fit.
    RowTooLarge { bytes: u64, budget: ResultBudget },
    /// Any other message longer than the budget.
    MessageTooLarge {
        target: String,
        tag: u8,
        bytes: u64,
        budget: ResultBudget,
    },
    /// AuthenticationCleartextPassword on an unencrypted TCP connection.
    Cleartext { target: String },
    /// The socket could not be opened.
    Socket { target: String, cause: String },
    /// The SSH tunnel could not be used; the message names the hop.
    Tunnel(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::RowTooLarge { bytes, budget } => write!(
                f,
                "a row of {bytes} bytes exceeds the result budget of {budget}; select fewer or \
                 smaller columns (e.g. left(col, 1000)), or raise {}",
                ResultBudget::ENV
            ),
            WireError::MessageTooLarge {
                target,
                tag,
                bytes,
                budget,
            } => write!(
                f,
                "the server at {target} sent a message of {bytes} bytes (type {}), more than \
                 the result budget of {budget} ({}); the connection was closed",
                char::from(*tag).escape_default(),
                ResultBudget::ENV
            ),
            WireError::Cleartext { target } => write!(
                f,
                "the server at {target} asks for the password in cleartext over an \
                 unencrypted connection; refused (use sslmode=require, or sslmode=disable to \
                 allow it)"
            ),
            WireError::Socket { target, cause } => {
                write!(f, "cannot reach PostgreSQL at {target}: {cause}")
            }
            WireError::Tunnel(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for WireError {}

/// The [`WireError`] behind a tokio-postgres error, if one is.
pub(in crate::connector::postgres) fn find(e: &tokio_postgres::Error) -> Option<&WireError> {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(w) = c.downcast_ref::<WireError>() {
            return Some(w);
        }
        // io::Error's own source() skips the error it wraps.
        if let Some(w) = c
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<WireError>())
        {
            return Some(w);
        }
        cause = c.source();
    }
    None
}

fn io_error(e: &WireError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.clone())
}

/// `e` as the tokio-postgres error that deadpool's `Connect` must return. That type has no
/// public constructor, so the error is made by a session start over a stream that fails
/// every read and write with `e`; [`find`] gets `e` back out.
pub(in crate::connector::postgres) async fn into_pg_error(e: WireError) -> tokio_postgres::Error {
    let mut config = tokio_postgres::Config::new();
    config
        .user("tdb")
        .ssl_mode(tokio_postgres::config::SslMode::Disable);
    match config.connect_raw(Failing(e), NoTls).await {
        Err(pg) => pg,
        Ok(_) => unreachable!("a session cannot start over a stream whose every write fails"),
    }
}

struct Failing(WireError);

impl AsyncRead for Failing {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io_error(&self.0)))
    }
}

impl AsyncWrite for Failing {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io_error(&self.0)))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io_error(&self.0)))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A connected TCP or Unix socket.
pub(in crate::connector::postgres) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// Opens a socket the way tokio-postgres would for `config`: each host in turn (a host
/// starting with `/` is a Unix socket directory), each address a name resolves to, each
/// attempt within `connect_timeout`; TCP with no delay and the configured keepalives.
pub(in crate::connector::postgres) async fn open(
    config: &tokio_postgres::Config,
) -> io::Result<Socket> {
    let timeout = config.get_connect_timeout().copied();
    let ports = config.get_ports();
    let mut last = None;
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        match host {
            Host::Unix(dir) => {
                let path = dir.join(format!(".s.PGSQL.{port}"));
                match within(timeout, UnixStream::connect(&path)).await {
                    Ok(s) => return Ok(Socket::Unix(s)),
                    Err(e) => last = Some(e),
                }
            }
            Host::Tcp(name) => {
                let addrs = match tokio::net::lookup_host((name.as_str(), port)).await {
                    Ok(a) => a,
                    Err(e) => {
                        last = Some(e);
                        continue;
                    }
                };
                for addr in addrs {
                    match within(timeout, TcpStream::connect(addr)).await {
                        Ok(s) => {
                            s.set_nodelay(true)?;
                            if config.get_keepalives() {
                                let mut ka =
                                    TcpKeepalive::new().with_time(config.get_keepalives_idle());
                                if let Some(i) = config.get_keepalives_interval() {
                                    ka = ka.with_interval(i);
                                }
                                if let Some(r) = config.get_keepalives_retries() {
                                    ka = ka.with_retries(r);
                                }
                                SockRef::from(&s).set_tcp_keepalive(&ka)?;
                            }
                            return Ok(Socket::Tcp(s));
                        }
                        Err(e) => last = Some(e),
                    }
                }
            }
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address to try")))
}

async fn within<T>(
    timeout: Option<Duration>,
    connect: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match timeout {
        None => connect.await,
        Some(t) => tokio::time::timeout(t, connect).await.unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer within {} s (connect_timeout_s)", t.as_secs()),
            ))
        }),
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Socket::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Socket::Tcp(s) => s.is_write_vectored(),
            Socket::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_flush(cx),
            Socket::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

enum Phase {
    /// An SSLRequest went out: the next byte is the answer, `S` or `N`.
    SslAnswer,
    /// TLS records; the layer above the TLS session follows the frames.
    PassThrough,
    Frames,
    Failed(WireError),
}

/// A stream whose backend framing is checked as it is read (see the module doc).
pub(in crate::connector::postgres) struct Guarded<S> {
    inner: S,
    policy: Arc<Policy>,
    phase: Phase,
    /// No TLS under this layer: the cleartext check applies.
    plaintext: bool,
    header: [u8; 5],
    header_len: usize,
    body_left: u64,
    /// Reading an authentication request's code (its first four body bytes).
    auth_code: Option<([u8; 4], usize)>,
    /// A ReadyForQuery was seen: failures from now on belong to a query.
    established: bool,
}

impl<S> Guarded<S> {
    /// The raw socket; `ssl_request` says whether tokio-postgres sends an SSLRequest first.
    pub fn socket(inner: S, policy: Arc<Policy>, ssl_request: bool) -> Self {
        let phase = if ssl_request {
            Phase::SslAnswer
        } else {
            Phase::Frames
        };
        Guarded::with(inner, policy, phase, true)
    }

    /// The decrypted side of a TLS session.
    fn tls(inner: S, policy: Arc<Policy>) -> Self {
        Guarded::with(inner, policy, Phase::Frames, false)
    }

    fn with(inner: S, policy: Arc<Policy>, phase: Phase, plaintext: bool) -> Self {
        Guarded {
            inner,
            policy,
            phase,
            plaintext,
            header: [0; 5],
            header_len: 0,
            body_left: 0,
            auth_code: None,
            established: false,
        }
    }

    /// Follows the frames through bytes just read; an error fails this read.
    fn inspect(&mut self, mut bytes: &[u8]) -> Result<(), WireError> {
        if matches!(self.phase, Phase::PassThrough | Phase::Failed(_)) {
            return Ok(());
        }
        if matches!(self.phase, Phase::SslAnswer) {
            let Some((&answer, rest)) = bytes.split_first() else {
                return Ok(());
            };
            if answer == b'S' {
                self.phase = Phase::PassThrough;
                return Ok(());
            }
            self.phase = Phase::Frames;
            bytes = rest;
        }
        while !bytes.is_empty() {
            if self.body_left == 0 {
                let n = (5 - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + n].copy_from_slice(&bytes[..n]);
                self.header_len += n;
                bytes = &bytes[n..];
                if self.header_len < 5 {
                    break;
                }
                self.header_len = 0;
                self.start_frame()?;
                continue;
            }
            let n = usize::try_from(self.body_left).map_or(bytes.len(), |l| l.min(bytes.len()));
            if let Some((code, have)) = &mut self.auth_code {
                let take = (4 - *have).min(n);
                code[*have..*have + take].copy_from_slice(&bytes[..take]);
                *have += take;
                if *have == 4 {
                    let code = u32::from_be_bytes(*code);
                    self.auth_code = None;
                    if code == CLEARTEXT_PASSWORD {
                        return Err(WireError::Cleartext {
                            target: self.policy.target.clone(),
                        });
                    }
                }
            }
            self.body_left -= n as u64;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    fn start_frame(&mut self) -> Result<(), WireError> {
        let tag = self.header[0];
        let len = u64::from(u32::from_be_bytes([
            self.header[1],
            self.header[2],
            self.header[3],
            self.header[4],
        ]));
        let budget = self.policy.budget;
        if len > budget.bytes() {
            return Err(if self.established && tag == DATA_ROW {
                WireError::RowTooLarge { bytes: len, budget }
            } else {
                WireError::MessageTooLarge {
                    target: self.policy.target.clone(),
                    tag,
                    bytes: len,
                    budget,
                }
            });
        }
        // A length under 4 is malformed; tokio-postgres reports that itself.
        self.body_left = len.saturating_sub(4);
        let watch = tag == AUTHENTICATION && self.plaintext && !self.policy.cleartext_allowed;
        self.auth_code = (watch && self.body_left >= 4).then_some(([0; 4], 0));
        if tag == READY_FOR_QUERY {
            self.established = true;
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Phase::Failed(e) = &this.phase {
            return Poll::Ready(Err(io_error(e)));
        }
        let start = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if matches!(this.phase, Phase::PassThrough) {
            return Poll::Ready(Ok(()));
        }
        match this.inspect(&buf.filled()[start..]) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => {
                // Whatever this read brought is dropped with the error, so the codec never
                // sees the offending header complete.
                buf.set_filled(start);
                if this.established {
                    this.policy.record(&e);
                }
                let io = io_error(&e);
                this.phase = Phase::Failed(e);
                Poll::Ready(Err(io))
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<S: TlsStream + Unpin> TlsStream for Guarded<S> {
    fn channel_binding(&self) -> ChannelBinding {
        self.inner.channel_binding()
    }
}

/// A TLS connector whose sessions come back [`Guarded`] on their decrypted side.
pub(in crate::connector::postgres) struct GuardedTls<T> {
    inner: T,
    policy: Arc<Policy>,
}

impl<T> GuardedTls<T> {
    pub fn new(inner: T, policy: Arc<Policy>) -> Self {
        GuardedTls { inner, policy }
    }
}

impl<S, T> TlsConnect<S> for GuardedTls<T>
where
    T: TlsConnect<S>,
    T::Future: Unpin,
{
    type Stream = Guarded<T::Stream>;
    type Error = T::Error;
    type Future = GuardedHandshake<T::Future>;

    fn connect(self, stream: S) -> Self::Future {
        GuardedHandshake {
            inner: self.inner.connect(stream),
            policy: self.policy,
        }
    }
}

pub(in crate::connector::postgres) struct GuardedHandshake<F> {
    inner: F,
    policy: Arc<Policy>,
}

impl<F, St, E> Future for GuardedHandshake<F>
where
    F: Future<Output = Result<St, E>> + Unpin,
{
    type Output = Result<Guarded<St>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let stream = ready!(Pin::new(&mut this.inner).poll(cx))?;
        Poll::Ready(Ok(Guarded::tls(stream, Arc::clone(&this.policy))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(cleartext_allowed: bool, ssl_request: bool) -> Guarded<()> {
        let policy = Policy::new(ResultBudget::MIN, cleartext_allowed, "db:5432".into());
        Guarded::socket((), Arc::new(policy), ssl_request)
    }

    fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![tag];
        f.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    /// Feeds `bytes` in chunks of `step`, as reads might deliver them.
    fn feed(g: &mut Guarded<()>, bytes: &[u8], step: usize) -> Result<(), WireError> {
        bytes.chunks(step).try_for_each(|c| g.inspect(c))
    }

    #[test]
    fn frames_are_followed_across_any_split() {
        let mut stream = frame(b'R', &0u32.to_be_bytes());
        stream.extend(frame(b'S', b"server_version\x0015\x00"));
        stream.extend(frame(b'Z', b"I"));
        stream.extend(frame(b'D', &[7; 300]));
        for step in [1, 2, 3, 5, 7, 64, 4096] {
            let mut g = guard(false, false);
            feed(&mut g, &stream, step).unwrap();
            assert!(g.established, "step {step}");
            assert_eq!((g.body_left, g.header_len), (0, 0), "step {step}");
        }
    }

    #[test]
    fn a_length_over_the_budget_fails_at_its_header() {
        let mut stream = frame(b'R', &0u32.to_be_bytes());
        stream.extend([b'R', 0x7f, 0xff, 0xff, 0xf0]);
        for step in [1, 3, 100] {
            let err = feed(&mut guard(true, false), &stream, step).unwrap_err();
            assert!(
                matches!(
                    err,
                    WireError::MessageTooLarge {
                        tag: b'R',
                        bytes: 0x7fff_fff0,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        // After the session started, a DataRow is a row too large for the budget.
        let mut g = guard(true, false);
        g.inspect(&frame(b'Z', b"I")).unwrap();
        let err = g.inspect(&[b'D', 0, 0x20, 0, 0]).unwrap_err();
        assert_eq!(
            err,
            WireError::RowTooLarge {
                bytes: 0x20_0000,
                budget: ResultBudget::MIN
            }
        );
        assert!(
            err.to_string()
                .contains("exceeds the result budget of 1 MiB")
        );
    }

    #[test]
    fn cleartext_is_refused_on_a_plain_wire_unless_allowed() {
        // `N` to the SSLRequest, then AuthenticationCleartextPassword.
        let mut stream = vec![b'N'];
        stream.extend(frame(b'R', &3u32.to_be_bytes()));
        for step in [1, 2, 6, 100] {
            let err = feed(&mut guard(false, true), &stream, step).unwrap_err();
            let want = WireError::Cleartext {
                target: "db:5432".into(),
            };
            assert_eq!(err, want);
            feed(&mut guard(true, true), &stream, step).unwrap();
        }
        // SCRAM (10) is fine; so is cleartext on the decrypted side of TLS.
        let mut g = guard(false, true);
        feed(&mut g, b"N", 1).unwrap();
        g.inspect(&frame(b'R', b"\0\0\0\x0aSCRAM-SHA-256\0\0"))
            .unwrap();
        let policy = Arc::new(Policy::new(ResultBudget::MIN, false, "db:5432".into()));
        let mut tls = Guarded::tls((), policy);
        tls.inspect(&frame(b'R', &3u32.to_be_bytes())).unwrap();
    }

    #[test]
    fn after_s_the_tls_records_pass_unread() {
        let mut g = guard(false, true);
        g.inspect(b"S").unwrap();
        assert!(matches!(g.phase, Phase::PassThrough));
        g.inspect(&[b'R', 0x7f, 0xff, 0xff, 0xf0]).unwrap();
    }

    #[tokio::test]
    async fn open_tries_each_host_in_turn_and_takes_unix_socket_directories() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let open_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open_port = open_l.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let _unix = tokio::net::UnixListener::bind(dir.path().join(".s.PGSQL.5999")).unwrap();

        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(closed_port)
            .host("localhost")
            .port(open_port)
            .keepalives_idle(Duration::from_secs(61));
        let s = open(&config).await.unwrap();
        let Socket::Tcp(t) = s else {
            panic!("expected TCP")
        };
        assert_eq!(t.peer_addr().unwrap().port(), open_port);
        assert!(t.nodelay().unwrap());
        let sock = SockRef::from(&t);
        assert!(sock.keepalive().unwrap());
        assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(61));

        let mut config = tokio_postgres::Config::new();
        config.host(dir.path().display().to_string()).port(5999);
        assert!(matches!(open(&config).await.unwrap(), Socket::Unix(_)));

        let mut config = tokio_postgres::Config::new();
        config.host("127.0.0.1").port(closed_port);
        let err = open(&config).await.err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
}
