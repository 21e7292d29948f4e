//! Text sources into UTF-8: the encodings by their WHATWG labels
//! (encoding_rs), a byte order mark that decides by itself, and a hint
//! naming the likely encoding when the bytes are not UTF-8.
//!
//! Decisions, written down:
//! - `latin1` and `iso-8859-1` mean windows-1252, as they do on the web and
//!   to the people who write them: an Excel or Windows "CSV" export is
//!   windows-1252, and reading it as ISO Latin-1 would turn ’ “ ” – — €
//!   into invisible control characters.
//! - A UTF-8 or UTF-16 BOM decides, whatever the source says: a file that
//!   starts with one says what it is more reliably than a config written
//!   before it.
//! - Decoding is strict: a byte sequence that is not text in the encoding
//!   is an error naming the byte and line, never a silent U+FFFD.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// The encoding a source asks for, from its `encoding` key: any WHATWG
/// label (case and blanks around it do not matter). `None` when the label
/// names no encoding, or the "replacement" encoding (labels such as
/// `iso-2022-kr`, which decode every input to one error).
pub fn for_label(label: &str) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(label.trim().as_bytes())?;
    (enc != encoding_rs::REPLACEMENT).then_some(enc)
}

/// Bytes into text. A BOM decides the encoding and is removed; without
/// one, `declared` (UTF-8 when `None`). Returns the text and the name of
/// the encoding it was decoded from (`UTF-8`, `windows-1252`, `UTF-16LE`:
/// the WHATWG names), or a message that says where the bytes stop being
/// text and what the source may be instead.
pub fn decode(
    bytes: Vec<u8>,
    declared: Option<&'static Encoding>,
) -> Result<(String, &'static str), String> {
    let (enc, bom) = match Encoding::for_bom(&bytes) {
        Some((enc, len)) => (enc, len),
        None => (declared.unwrap_or(UTF_8), 0),
    };
    if enc == UTF_8 {
        let mut bytes = bytes;
        bytes.drain(..bom);
        // In place: a large export is not copied.
        return String::from_utf8(bytes)
            .map(|s| (s, UTF_8.name()))
            .map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                format!(
                    "not UTF-8 at byte {} (line {}){}",
                    at + bom,
                    line_at(bytes, at),
                    if declared.is_none() && bom == 0 {
                        hint(bytes)
                    } else {
                        String::new()
                    }
                )
            });
    }
    let body = &bytes[bom..];
    let mut decoder = enc.new_decoder_without_bom_handling();
    let cap = decoder
        .max_utf8_buffer_length_without_replacement(body.len())
        .ok_or_else(|| format!("too long to decode as {}", enc.name()))?;
    let mut text = String::with_capacity(cap);
    let (result, read) = decoder.decode_to_string_without_replacement(body, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok((text, enc.name())),
        encoding_rs::DecoderResult::Malformed(bad, after) => {
            let at = read - after as usize - bad as usize;
            Err(format!(
                "not {} at byte {} (line {})",
                enc.name(),
                at + bom,
                // Lines of the text decoded so far.
                text.bytes().filter(|&b| b == b'\n').count() + 1
            ))
        }
        // The buffer was sized for the worst case.
        encoding_rs::DecoderResult::OutputFull => {
            Err(format!("could not decode as {}", enc.name()))
        }
    }
}

fn line_at(bytes: &[u8], at: usize) -> usize {
    bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// What bytes that are not UTF-8 probably are: UTF-16 when every other
/// byte of the start is zero; windows-1252 otherwise (when bytes 0x80-0x9F
/// appear, which ISO Latin-1 leaves to invisible control characters,
/// certainly: curly quotes, dashes, the euro sign).
fn hint(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(4096)];
    let zeros = |parity: usize| {
        head.iter()
            .enumerate()
            .filter(|&(i, &b)| i % 2 == parity && b == 0)
            .count()
    };
    let pairs = head.len() / 2;
    if pairs >= 2 && zeros(1) * 10 >= pairs * 9 {
        return format!(
            "; it looks like UTF-16 without a byte order mark: set encoding = \"{}\"",
            UTF_16LE.name().to_ascii_lowercase()
        );
    }
    if pairs >= 2 && zeros(0) * 10 >= pairs * 9 {
        return format!(
            "; it looks like UTF-16 without a byte order mark: set encoding = \"{}\"",
            UTF_16BE.name().to_ascii_lowercase()
        );
    }
    if bytes.iter().any(|b| (0x80..=0x9f).contains(b)) {
        "; it looks like windows-1252 (an Excel or Windows export: curly quotes, dashes or € in bytes 0x80-0x9F): set encoding = \"windows-1252\"".to_owned()
    } else {
        "; if it is Latin-1 or an Excel or Windows export, set encoding = \"windows-1252\""
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(bytes: &[u8], label: Option<&str>) -> Result<(String, &'static str), String> {
        decode(bytes.to_vec(), label.map(|l| for_label(l).unwrap()))
    }

    #[test]
    fn labels_are_whatwg_and_latin1_is_windows_1252() {
        assert_eq!(for_label("latin1").unwrap().name(), "windows-1252");
        assert_eq!(for_label("ISO-8859-1 ").unwrap().name(), "windows-1252");
        assert_eq!(for_label("cp1252").unwrap().name(), "windows-1252");
        assert_eq!(for_label("utf8").unwrap().name(), "UTF-8");
        assert_eq!(for_label("utf-16le").unwrap().name(), "UTF-16LE");
        assert_eq!(for_label("utf-16be").unwrap().name(), "UTF-16BE");
        assert_eq!(for_label("shift_jis").unwrap().name(), "Shift_JIS");
        assert_eq!(for_label("sjis").unwrap().name(), "Shift_JIS");
        assert!(for_label("iso-2022-kr").is_none());
        assert!(for_label("klingon").is_none());
    }

    #[test]
    fn windows_1252_punctuation_and_the_euro_sign() {
        // ’ “ ” – — € é, byte by byte from the windows-1252 table.
        let bytes = b"Jos\xe9 \x92s \x93plan\x94 \x96 \x97 \x80 5";
        assert_eq!(
            dec(bytes, Some("windows-1252")).unwrap(),
            (
                "Jos\u{e9} \u{2019}s \u{201c}plan\u{201d} \u{2013} \u{2014} \u{20ac} 5".to_owned(),
                "windows-1252"
            )
        );
        // latin1 is the same table.
        assert_eq!(
            dec(bytes, Some("latin1")).unwrap().0,
            dec(bytes, Some("windows-1252")).unwrap().0
        );
    }

    #[test]
    fn a_bom_decides_by_itself() {
        // UTF-16LE with a BOM, though the source says windows-1252.
        let le = b"\xff\xfeA\x00\t\x00\xe9\x00\n\x00";
        assert_eq!(
            dec(le, Some("windows-1252")).unwrap(),
            ("A\t\u{e9}\n".to_owned(), "UTF-16LE")
        );
        let be = b"\xfe\xff\x00A\x20\xac";
        assert_eq!(dec(be, None).unwrap(), ("A\u{20ac}".to_owned(), "UTF-16BE"));
        let u8 = b"\xef\xbb\xbfa,b\n";
        assert_eq!(
            dec(u8, Some("shift_jis")).unwrap(),
            ("a,b\n".to_owned(), "UTF-8")
        );
        // Without a BOM, the declared encoding.
        assert_eq!(
            dec(b"A\x00\xac\x20", Some("utf-16le")).unwrap().0,
            "A\u{20ac}"
        );
        // Shift_JIS: ＡＢ (0x8260 0x8261) and ｶ (half-width katakana 0xb6).
        assert_eq!(
            dec(b"\x82\x60\x82\x61\xb6", Some("shift_jis")).unwrap().0,
            "\u{ff21}\u{ff22}\u{ff76}"
        );
    }

    #[test]
    fn not_utf8_names_the_byte_line_and_likely_encoding() {
        let e = dec(b"ok\nJos\xe9\n", None).unwrap_err();
        assert_eq!(
            e,
            "not UTF-8 at byte 6 (line 2); if it is Latin-1 or an Excel or Windows export, set encoding = \"windows-1252\""
        );
        let e = dec(b"ok\n\x93quoted\x94\n", None).unwrap_err();
        assert!(
            e.starts_with("not UTF-8 at byte 3 (line 2); it looks like windows-1252"),
            "{e}"
        );
        assert!(e.ends_with("set encoding = \"windows-1252\""), "{e}");
        let e = dec(b"N\x00a\x00m\x00e\x00\n\x00\xe9\x00", None).unwrap_err();
        assert!(
            e.ends_with("UTF-16 without a byte order mark: set encoding = \"utf-16le\""),
            "{e}"
        );
        // Declared and still wrong: no guessing, just where.
        let e = dec(b"a\nb\xff", Some("utf-8")).unwrap_err();
        assert_eq!(e, "not UTF-8 at byte 3 (line 2)");
        // A lone surrogate in UTF-16 is not text.
        let e = dec(b"\xff\xfeA\x00\n\x00\x00\xd8B\x00", None).unwrap_err();
        assert_eq!(e, "not UTF-16LE at byte 6 (line 2)");
    }

    proptest! {
        #[test]
        fn decoding_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64), l in 0usize..5) {
            let label = ["utf-8", "windows-1252", "utf-16le", "utf-16be", "shift_jis"][l];
            let _ = dec(&b, None);
            let _ = dec(&b, Some(label));
        }

        #[test]
        fn windows_1252_decodes_every_byte(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!(dec(&b, Some("windows-1252")).is_ok() || Encoding::for_bom(&b).is_some());
        }
    }
}
