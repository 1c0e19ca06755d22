//! Framing: LSP messages read from and written to byte streams the caller
//! hands in (`policyc lsp` hands in stdin and stdout).
//!
//! This replaces `lsp_server`'s own stdio transport, which allocates the
//! body a `Content-Length` header announces before reading it (a header of
//! `99999999999999` aborted the process) and ends the connection on the
//! first message that is not valid JSON (a lone UTF-16 surrogate, which an
//! editor's `JSON.stringify` can produce, did). Here:
//!
//! - a header line is at most [`MAX_HEADER_LINE`] bytes; a message over the
//!   cap is skipped as it streams in (never buffered) and answered with a
//!   JSON-RPC error, and the connection goes on;
//! - a body is read as it arrives, so memory follows what the client sends,
//!   not what it announces;
//! - a body that is not UTF-8 or not JSON-RPC is answered with a JSON-RPC
//!   error (`id: null` when the id cannot be read) and the connection goes
//!   on;
//! - a lone surrogate escape (`\ud800`) is read as U+FFFD, which keeps the
//!   document's UTF-16 positions where the client counts them; a request
//!   carrying one is answered with an error, a notification carrying one is
//!   applied and the client is warned (`window/showMessage`).
//!
//! Only a header that cannot be framed (no `Content-Length`, or one that is
//! not a number) ends the connection: after it, where the next message
//! starts cannot be known.

use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use lsp_server::{Connection, ErrorCode, Message, Notification};
use serde_json::{json, Value};

/// The longest header line read, in bytes.
pub const MAX_HEADER_LINE: u64 = 4096;

/// What reading one frame gave.
#[derive(Debug)]
pub enum Frame {
    /// A body, read in full.
    Body(Vec<u8>),
    /// A body over the cap, skipped: its announced length.
    TooLarge(u64),
    /// The stream ended cleanly, between messages.
    End,
}

/// Why a stream cannot be framed any further.
#[derive(Debug)]
pub struct FrameError(pub String);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> Self {
        FrameError(e.to_string())
    }
}

/// Reads one frame: headers up to an empty line, then `Content-Length`
/// bytes. A body longer than `max` bytes is read and dropped as it
/// arrives. The end of the stream in the middle of a message is an end,
/// like the end between messages: the client has gone.
pub fn read_frame(r: &mut impl BufRead, max: u64) -> Result<Frame, FrameError> {
    let mut length: Option<u64> = None;
    let mut line = Vec::new();
    let mut first = true;
    loop {
        line.clear();
        let n = r
            .by_ref()
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return if first {
                Ok(Frame::End)
            } else {
                Err(FrameError(
                    "the input ended inside a message's headers".to_string(),
                ))
            };
        }
        first = false;
        if line.last() != Some(&b'\n') {
            return Err(FrameError(format!(
                "a header line is longer than {MAX_HEADER_LINE} bytes or unterminated"
            )));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(FrameError(format!(
                "malformed header `{}`",
                text.escape_debug()
            )));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            length = Some(value.parse::<u64>().map_err(|_| {
                FrameError(format!(
                    "`Content-Length: {}` is not a length in bytes",
                    value.escape_debug()
                ))
            })?);
        }
    }
    let Some(length) = length else {
        return Err(FrameError(
            "a message has no `Content-Length` header".to_string(),
        ));
    };
    if length > max {
        let skipped = io::copy(&mut r.by_ref().take(length), &mut io::sink())?;
        return Ok(if skipped < length {
            Frame::End
        } else {
            Frame::TooLarge(length)
        });
    }
    let mut body = Vec::new();
    r.by_ref().take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Ok(Frame::End);
    }
    Ok(Frame::Body(body))
}

/// Writes one framed message.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(body)?;
    w.flush()
}

/// Replaces every lone UTF-16 surrogate escape (`\ud800` not followed by a
/// low surrogate escape, or a low one alone) in a JSON text with `\ufffd`,
/// in place (both escapes are six bytes). Returns how many were replaced.
pub fn replace_lone_surrogates(json: &mut [u8]) -> usize {
    fn hex(b: &[u8]) -> Option<u16> {
        let s = std::str::from_utf8(b).ok()?;
        u16::from_str_radix(s, 16).ok()
    }
    fn escape_at(json: &[u8], i: usize) -> Option<u16> {
        match json.get(i..i + 6) {
            Some([b'\\', b'u', rest @ ..]) => hex(rest),
            _ => None,
        }
    }
    let mut replaced = 0;
    let mut i = 0;
    while i < json.len() {
        if json.get(i) != Some(&b'\\') {
            i += 1;
            continue;
        }
        let Some(unit) = escape_at(json, i) else {
            // Any other escape is two bytes (`\\`, `\"`, `\n`, …).
            i += 2;
            continue;
        };
        let high = (0xD800..0xDC00).contains(&unit);
        let low = (0xDC00..0xE000).contains(&unit);
        if high && escape_at(json, i + 6).is_some_and(|u| (0xDC00..0xE000).contains(&u)) {
            i += 12;
            continue;
        }
        if high || low {
            if let Some(slot) = json.get_mut(i..i + 6) {
                slot.copy_from_slice(b"\\ufffd");
                replaced += 1;
            }
        }
        i += 6;
    }
    replaced
}

/// What the reader makes of one body.
#[derive(Debug)]
pub enum Decoded {
    /// A message to hand to the server.
    Message(Message),
    /// A message to hand to the server, and a warning for the client (a
    /// notification whose text held lone surrogates, read as U+FFFD).
    Warned(Message, String),
    /// An answer for the client; nothing reaches the server.
    Answer(Value),
}

/// Decodes one body: JSON-RPC, with lone surrogates as U+FFFD; anything
/// else becomes the JSON-RPC error to answer it with.
pub fn decode(mut body: Vec<u8>) -> Decoded {
    let replaced = replace_lone_surrogates(&mut body);
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let what = if std::str::from_utf8(&body).is_err() {
                "the message is not UTF-8".to_string()
            } else {
                format!("the message is not JSON: {e}")
            };
            return Decoded::Answer(error_body(&Value::Null, ErrorCode::ParseError, &what));
        }
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let message: Message = match serde_json::from_value(value) {
        Ok(m) => m,
        Err(_) => {
            return Decoded::Answer(error_body(
                &id,
                ErrorCode::InvalidRequest,
                "the message is not a JSON-RPC request, response or notification",
            ))
        }
    };
    if replaced == 0 {
        return Decoded::Message(message);
    }
    let text = format!(
        "{replaced} lone UTF-16 surrogate escape(s) (such as `\\ud800`), which are not text"
    );
    match message {
        Message::Request(req) => Decoded::Answer(error_body(
            &id,
            ErrorCode::InvalidParams,
            &format!(
                "`{}` was not processed: its parameters hold {text}",
                req.method
            ),
        )),
        Message::Notification(n) => {
            let warning = format!(
                "policyc lsp: `{}` held {text}; they were read as U+FFFD",
                n.method
            );
            Decoded::Warned(Message::Notification(n), warning)
        }
        response @ Message::Response(_) => Decoded::Message(response),
    }
}

fn error_body(id: &Value, code: ErrorCode, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code as i32, "message": message } })
}

fn show_message(text: String) -> Message {
    Message::Notification(Notification::new(
        "window/showMessage".to_string(),
        json!({ "type": 2, "message": text }),
    ))
}

/// The reader and writer threads of a transport.
pub struct IoThreads {
    reader: JoinHandle<Result<(), FrameError>>,
    writer: JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for the writer to flush what the server sent, then reports how
    /// the reader ended. Call it after the server returned and its
    /// [`Connection`] was dropped. The reader is waited for only when it has
    /// already stopped (after `exit` or at the end of the input): a client
    /// that keeps its end open must not keep the process alive.
    pub fn join(self) -> Result<(), String> {
        let written = self
            .writer
            .join()
            .map_err(|_| "the writer thread panicked".to_string())?;
        written.map_err(|e| format!("cannot write to the client: {e}"))?;
        if self.reader.is_finished() {
            let read = self
                .reader
                .join()
                .map_err(|_| "the reader thread panicked".to_string())?;
            read.map_err(|e| e.0)?;
        }
        Ok(())
    }
}

/// A connection over a byte stream: one thread frames and decodes what
/// `reader` gives (messages of at most `max_message_bytes`), one writes
/// what the server sends to `writer`. The reader stops after forwarding
/// `exit`, at the end of the input, or at a header that cannot be framed.
pub fn transport<R, W>(reader: R, writer: W, max_message_bytes: u64) -> (Connection, IoThreads)
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    let (server, client) = Connection::memory();
    let out = Arc::new(Mutex::new(writer));
    let to_server = client.sender;
    let from_server = client.receiver;
    let reader_out = Arc::clone(&out);
    let reader = std::thread::spawn(move || {
        let mut reader = reader;
        let answer = |v: &Value| -> io::Result<()> {
            let mut w = reader_out.lock().unwrap_or_else(PoisonError::into_inner);
            write_frame(&mut *w, v.to_string().as_bytes())
        };
        loop {
            let body = match read_frame(&mut reader, max_message_bytes)? {
                Frame::End => return Ok(()),
                Frame::TooLarge(n) => {
                    answer(&error_body(
                        &Value::Null,
                        ErrorCode::InvalidRequest,
                        &format!(
                            "a message of {n} bytes is over the language server's limit of {max_message_bytes} bytes; it was skipped"
                        ),
                    ))?;
                    continue;
                }
                Frame::Body(b) => b,
            };
            let (message, warning) = match decode(body) {
                Decoded::Message(m) => (m, None),
                Decoded::Warned(m, w) => (m, Some(w)),
                Decoded::Answer(v) => {
                    answer(&v)?;
                    continue;
                }
            };
            if let Some(w) = warning {
                let mut out = reader_out.lock().unwrap_or_else(PoisonError::into_inner);
                show_message(w).write(&mut *out)?;
            }
            let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
            if to_server.send(message).is_err() || exit {
                return Ok(());
            }
        }
    });
    let writer = std::thread::spawn(move || {
        for message in from_server {
            let mut w = out.lock().unwrap_or_else(PoisonError::into_inner);
            message.write(&mut *w)?;
        }
        Ok(())
    });
    (server, IoThreads { reader, writer })
}

#[cfg(test)]
mod tests;
