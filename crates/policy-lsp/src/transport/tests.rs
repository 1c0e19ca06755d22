use std::io::Cursor;

use super::*;

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn check_frames(input: &[u8], max: u64, expect: &[&str]) {
    let mut r = Cursor::new(input.to_vec());
    let mut got = Vec::new();
    loop {
        match read_frame(&mut r, max) {
            Ok(Frame::End) => break,
            Ok(Frame::Body(b)) => got.push(String::from_utf8_lossy(&b).into_owned()),
            Ok(Frame::TooLarge(n)) => got.push(format!("too large: {n}")),
            Err(e) => {
                got.push(format!("error: {e}"));
                break;
            }
        }
    }
    assert_eq!(got, expect);
}

#[test]
fn frames_in_sequence_with_other_headers() {
    let mut input = frame("{}");
    input.extend(
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length:  3\r\n\r\n[1]",
    );
    check_frames(&input, 100, &["{}", "[1]"]);
}

#[test]
fn an_announced_length_never_allocates_and_is_skipped_when_over_the_cap() {
    // The issue's headers: nothing is allocated from them; the body that
    // does not come is the end of the input, not an abort.
    for huge in ["99999999999999", "18446744073709551615", "4000000000"] {
        let input = format!("Content-Length: {huge}\r\n\r\n{{}}");
        check_frames(input.as_bytes(), 1 << 20, &[]);
    }
    // Over the cap but complete: skipped, and the next message is read.
    let mut input = frame(&"x".repeat(50));
    input.extend(frame("{}"));
    check_frames(&input, 10, &["too large: 50", "{}"]);
}

#[test]
fn headers_that_cannot_be_framed_end_the_stream_with_a_reason() {
    check_frames(
        b"Content-Length: 1e9\r\n\r\n",
        100,
        &["error: `Content-Length: 1e9` is not a length in bytes"],
    );
    check_frames(
        b"Content-Length: 18446744073709551616\r\n\r\n",
        100,
        &["error: `Content-Length: 18446744073709551616` is not a length in bytes"],
    );
    check_frames(
        b"X: 1\r\n\r\n{}",
        100,
        &["error: a message has no `Content-Length` header"],
    );
    let long = vec![b'a'; 10_000];
    check_frames(
        &long,
        100,
        &["error: a header line is longer than 4096 bytes or unterminated"],
    );
}

#[test]
fn lone_surrogates_become_replacement_characters_in_place() {
    let cases = [
        (r#""\ud800""#, r#""\ufffd""#, 1),
        (r#""\uDC00x""#, r#""\ufffdx""#, 1),
        (r#""\ud83d\ude00""#, r#""\ud83d\ude00""#, 0),
        (r#""\\ud800""#, r#""\\ud800""#, 0),
        (r#""\ud800\ud800\udc00""#, r#""\ufffd\ud800\udc00""#, 1),
        (r#""\ud800\n""#, r#""\ufffd\n""#, 1),
        (r#""\u12""#, r#""\u12""#, 0),
    ];
    for (input, want, n) in cases {
        let mut b = input.as_bytes().to_vec();
        assert_eq!(replace_lone_surrogates(&mut b), n, "{input}");
        assert_eq!(String::from_utf8_lossy(&b), want, "{input}");
        let _: serde_json::Result<String> = serde_json::from_slice(&b);
    }
}

fn decoded(body: &str) -> Decoded {
    decode(body.as_bytes().to_vec())
}

#[test]
fn malformed_bodies_are_answered_not_fatal() {
    let Decoded::Answer(v) = decoded("{not json") else {
        panic!("not answered")
    };
    assert_eq!(v["id"], Value::Null);
    assert_eq!(v["error"]["code"], -32700);
    let Decoded::Answer(v) = decode(vec![0xff, 0xfe]) else {
        panic!("not answered")
    };
    assert_eq!(v["error"]["message"], "the message is not UTF-8");
    let Decoded::Answer(v) = decoded(r#"{"jsonrpc":"2.0","id":7,"method":5}"#) else {
        panic!("not answered")
    };
    assert_eq!(v["id"], 7);
    assert_eq!(v["error"]["code"], -32600);
}

#[test]
fn a_request_with_a_lone_surrogate_is_answered_with_an_error_on_its_id() {
    let Decoded::Answer(v) = decoded(
        r#"{"jsonrpc":"2.0","id":4,"method":"textDocument/hover","params":{"x":"\ud800"}}"#,
    ) else {
        panic!("not answered")
    };
    assert_eq!(v["id"], 4);
    assert_eq!(v["error"]["code"], -32602);
}

#[test]
fn a_notification_with_a_lone_surrogate_is_applied_with_a_warning() {
    let Decoded::Warned(Message::Notification(n), w) = decoded(
        r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"text":"a\ud800b"}}"#,
    ) else {
        panic!("not warned")
    };
    assert_eq!(n.params["text"], "a\u{fffd}b");
    assert!(w.contains("U+FFFD"), "{w}");
}

#[test]
fn the_transport_answers_and_forwards_in_order() {
    let mut input = frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
    input.extend(b"Content-Length: 99999\r\n\r\n");
    input.extend(vec![b' '; 99999]);
    input.extend(frame("{oops"));
    input.extend(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#));
    input.extend(frame(r#"{"jsonrpc":"2.0","method":"never read"}"#));
    let out = Arc::new(Mutex::new(Vec::new()));
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let (conn, threads) = transport(Cursor::new(input), Shared(Arc::clone(&out)), 1000);
    let got: Vec<Message> = conn.receiver.iter().collect();
    let methods: Vec<String> = got
        .iter()
        .map(|m| match m {
            Message::Request(r) => r.method.clone(),
            Message::Notification(n) => n.method.clone(),
            Message::Response(_) => "response".to_string(),
        })
        .collect();
    assert_eq!(methods, ["initialize", "exit"]);
    drop(conn);
    assert_eq!(threads.join(), Ok(()));
    let written =
        String::from_utf8_lossy(&out.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    let bodies: Vec<Value> = written
        .split("Content-Length: ")
        .filter(|s| !s.is_empty())
        .filter_map(|m| m.split_once("\r\n\r\n"))
        .filter_map(|(_, b)| serde_json::from_str(b).ok())
        .collect();
    assert_eq!(bodies.len(), 2, "{written}");
    assert!(bodies[0]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("99999 bytes")));
    assert_eq!(bodies[1]["error"]["code"], -32700);
}
