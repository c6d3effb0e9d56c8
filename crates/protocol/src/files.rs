//! Which files may be sent, shared by the hub (which decides) and the console (which tells
//! the agent at once): a file's type is read from its first bytes, never taken from its
//! name or the sender's word alone, and each channel's provider limits (type, size, count)
//! are checked before anything is queued.

use crate::model::ChannelKind;
use crate::{ApiError, ErrorCode};

/// The largest file anyone may upload (Messenger's limit; email's usual one).
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// The most files on one message (Twilio's MMS limit).
pub const MAX_FILES: usize = 10;
/// Bytes of a file's start enough to tell its type.
pub const SNIFF_BYTES: usize = 512;

const MB: u64 = 1024 * 1024;

/// Why a file cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    Empty { name: String },
    TooLarge { name: String, size: String, limit: String },
    Type { name: String },
    Mismatch { name: String, declared: String, found: String },
    TooMany,
    Channel { channel: String, what: String },
    TotalTooLarge { channel: String, size: String, limit: String },
}

impl std::fmt::Display for FileRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileRefusal::Empty { name } => write!(f, "`{name}` is empty"),
            FileRefusal::TooLarge { name, size, limit } => {
                write!(f, "`{name}` is {size}; files up to {limit} can be sent")
            }
            FileRefusal::Type { name } => write!(
                f,
                "`{name}` is not a type of file that can be sent (images, PDF, office documents, text, audio and video can)"
            ),
            FileRefusal::Mismatch { name, declared, found } => {
                write!(f, "`{name}` is named {declared} but its content is {found}")
            }
            FileRefusal::TooMany => write!(f, "a message carries at most {MAX_FILES} files"),
            FileRefusal::Channel { channel, what } => write!(f, "{channel} cannot carry {what}"),
            FileRefusal::TotalTooLarge { channel, size, limit } => {
                write!(f, "these files come to {size}; {channel} carries up to {limit} on one message")
            }
        }
    }
}

impl std::error::Error for FileRefusal {}

impl From<FileRefusal> for ApiError {
    fn from(r: FileRefusal) -> ApiError {
        let code = if r.is_size() { ErrorCode::PayloadTooLarge } else { ErrorCode::BadRequest };
        ApiError::new(code, r.to_string())
    }
}

impl FileRefusal {
    /// Whether the refusal is about size (`payload_too_large`) rather than kind.
    pub fn is_size(&self) -> bool {
        matches!(self, FileRefusal::TooLarge { .. } | FileRefusal::TotalTooLarge { .. })
    }
}

/// A size as people read it: `512 bytes`, `48 KB`, `3.2 MB`.
pub fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes < MB {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        let tenths = (bytes * 10).div_ceil(MB);
        if tenths % 10 == 0 {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
}

/// The types of file that may be sent, with the extensions each is known by.
const TYPES: &[(&str, &[&str])] = &[
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/png", &["png"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("application/pdf", &["pdf"]),
    ("text/plain", &["txt", "log"]),
    ("text/csv", &["csv"]),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", &["docx"]),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &["xlsx"]),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", &["pptx"]),
    ("application/msword", &["doc"]),
    ("application/vnd.ms-excel", &["xls"]),
    ("application/zip", &["zip"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/ogg", &["ogg", "opus"]),
    ("audio/mp4", &["m4a"]),
    ("video/mp4", &["mp4", "m4v"]),
    ("video/3gpp", &["3gp"]),
];

fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

/// The type a file's content shows, from its first bytes, if it shows one.
fn sniffed(head: &[u8]) -> Option<&'static str> {
    let starts = |sig: &[u8]| head.starts_with(sig);
    if starts(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"PK\x03\x04") {
        Some("application/zip")
    } else if starts(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        Some("application/x-ole-storage")
    } else if starts(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some("audio/mpeg")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        Some(match &head[8..11] {
            b"3gp" => "video/3gpp",
            b"M4A" => "audio/mp4",
            _ => "video/mp4",
        })
    } else {
        None
    }
}

/// Whether `head` reads as text (UTF-8 with no control bytes but tabs and line ends); the
/// last few bytes may be a character cut in half by the sniffing window.
fn reads_as_text(head: &[u8], whole: bool) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if !whole && e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    !text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

/// The type a file is sent as: its content must show the type its name says (office
/// documents are zip or OLE containers; text must read as text), and the type must be one
/// that may be sent. `head` is the file's first bytes ([`SNIFF_BYTES`], or all of a
/// shorter file: `whole`). HTML, SVG, scripts and programs are never accepted: a browser
/// would run them.
pub fn file_type(name: &str, head: &[u8], whole: bool) -> Result<&'static str, FileRefusal> {
    let refused = || FileRefusal::Type { name: name.to_owned() };
    if head.is_empty() {
        return Err(FileRefusal::Empty { name: name.to_owned() });
    }
    let ext = extension(name).ok_or_else(refused)?;
    let (named, _) = TYPES.iter().find(|(_, exts)| exts.contains(&ext.as_str())).ok_or_else(refused)?;
    let found = sniffed(head);
    let fits = match (*named, found) {
        (named, Some(found)) if named == found => true,
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Some("application/zip"),
        ) => true,
        ("application/msword" | "application/vnd.ms-excel", Some("application/x-ole-storage")) => true,
        ("video/mp4", Some("audio/mp4")) | ("audio/mp4", Some("video/mp4")) => true,
        ("text/plain" | "text/csv", None) => reads_as_text(head, whole),
        _ => false,
    };
    if fits {
        Ok(named)
    } else {
        Err(FileRefusal::Mismatch {
            name: name.to_owned(),
            declared: format!(".{ext}"),
            found: found.map_or_else(|| "something else".to_owned(), |f| f.to_owned()),
        })
    }
}

/// A file's own size limit.
pub fn check_size(name: &str, size: u64) -> Result<(), FileRefusal> {
    if size == 0 {
        return Err(FileRefusal::Empty { name: name.to_owned() });
    }
    if size > MAX_FILE_BYTES {
        return Err(FileRefusal::TooLarge {
            name: name.to_owned(),
            size: human_size(size),
            limit: human_size(MAX_FILE_BYTES),
        });
    }
    Ok(())
}

/// One file on a message, as the channel rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent<'a> {
    pub name: &'a str,
    pub mime: &'a str,
    pub size: u64,
}

/// Whether `channel` can carry `files` on one message, by its provider's published limits:
/// Twilio MMS up to 10 media and 5 MB all told; WhatsApp images (JPEG, PNG) up to 5 MB,
/// audio and video (MP4, 3GPP) up to 16 MB, documents up to 100 MB; Instagram images,
/// audio and video only; Messenger 25 MB a file; email 25 MB all told.
pub fn fits_channel(channel: ChannelKind, files: &[Sent<'_>]) -> Result<(), FileRefusal> {
    if files.len() > MAX_FILES {
        return Err(FileRefusal::TooMany);
    }
    let label = channel_label(channel);
    let kind = |mime: &str| mime.split('/').next().unwrap_or("").to_owned();
    for f in files {
        check_size(f.name, f.size)?;
        let limit = match (channel, kind(f.mime).as_str()) {
            (ChannelKind::Whatsapp, "image") if matches!(f.mime, "image/jpeg" | "image/png") => 5 * MB,
            (ChannelKind::Whatsapp, "image") => {
                return Err(FileRefusal::Channel { channel: label, what: format!("{} images", type_word(f.mime)) });
            }
            (ChannelKind::Whatsapp, "audio" | "video") => 16 * MB,
            (ChannelKind::Instagram, "image" | "audio" | "video") => MAX_FILE_BYTES,
            (ChannelKind::Instagram, _) => {
                return Err(FileRefusal::Channel { channel: label, what: format!("documents such as `{}`", f.name) });
            }
            _ => MAX_FILE_BYTES,
        };
        if f.size > limit {
            return Err(FileRefusal::TooLarge {
                name: f.name.to_owned(),
                size: human_size(f.size),
                limit: format!("{} on {label}", human_size(limit)),
            });
        }
    }
    let total: u64 = files.iter().map(|f| f.size).sum();
    let total_limit = match channel {
        ChannelKind::Sms => Some(5 * MB),
        ChannelKind::Email => Some(MAX_FILE_BYTES),
        _ => None,
    };
    match total_limit {
        Some(limit) if total > limit => {
            Err(FileRefusal::TotalTooLarge { channel: label, size: human_size(total), limit: human_size(limit) })
        }
        _ => Ok(()),
    }
}

fn type_word(mime: &str) -> String {
    mime.rsplit('/').next().unwrap_or(mime).to_ascii_uppercase()
}

/// A channel's name at the start of a sentence ("WhatsApp", "Web chat", "Email").
pub fn channel_label(channel: ChannelKind) -> String {
    let mut name = channel.label().to_owned();
    if let Some(first) = name.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    name
}

/// The most files one message carries on `channel`: a WhatsApp, Messenger or Instagram
/// message is one media item.
pub fn max_files(channel: ChannelKind) -> usize {
    match channel {
        ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram => 1,
        _ => MAX_FILES,
    }
}

/// Whether a file on `channel` may carry the message's text with it: a WhatsApp image,
/// video or document has a caption (audio has none); a Messenger or Instagram attachment
/// carries no text.
pub fn carries_text(channel: ChannelKind, mime: &str) -> bool {
    match channel {
        ChannelKind::Whatsapp => !mime.starts_with("audio/"),
        ChannelKind::Messenger | ChannelKind::Instagram => false,
        _ => true,
    }
}

/// A reply of `body` and `files` as the messages `channel` sends it as, in order: one
/// message where the channel carries them together, otherwise the text (alone, or as the
/// first file's caption) and then each further file on its own. `mime` names a file's type.
pub fn split<T: Clone>(
    channel: ChannelKind,
    body: &str,
    files: &[T],
    mime: impl Fn(&T) -> &str,
) -> Vec<(String, Vec<T>)> {
    if files.len() <= max_files(channel)
        && (body.trim().is_empty() || files.iter().all(|f| carries_text(channel, mime(f))))
    {
        return vec![(body.to_owned(), files.to_vec())];
    }
    let mut out = Vec::new();
    let mut text = (!body.trim().is_empty()).then(|| body.to_owned());
    if let Some(t) = text.take_if(|_| !files.first().is_some_and(|f| carries_text(channel, mime(f)))) {
        out.push((t, Vec::new()));
    }
    for chunk in files.chunks(max_files(channel)) {
        out.push((text.take().unwrap_or_default(), chunk.to_vec()));
    }
    out
}

/// Whether one message of `body` and `files` is one `channel` sends as it is.
pub fn fits_one_message(channel: ChannelKind, body: &str, files: &[Sent<'_>]) -> Result<(), FileRefusal> {
    fits_channel(channel, files)?;
    let label = channel_label(channel);
    if files.len() > max_files(channel) {
        return Err(FileRefusal::Channel { channel: label, what: "more than one file on a message".into() });
    }
    if !body.trim().is_empty() && files.iter().any(|f| !carries_text(channel, f.mime)) {
        return Err(FileRefusal::Channel {
            channel: label,
            what: "text with this file; send them as two messages".into(),
        });
    }
    Ok(())
}

/// The picture type a file's first bytes show (PNG, JPEG, GIF or WebP), if any.
pub fn image_type(head: &[u8]) -> Option<&'static str> {
    sniffed(head).filter(|t| is_image(t))
}

/// Whether a type shows as a picture in the thread.
pub fn is_image(mime: &str) -> bool {
    matches!(mime, "image/jpeg" | "image/png" | "image/gif" | "image/webp")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF";
    const PDF: &[u8] = b"%PDF-1.7\n";
    const ZIP: &[u8] = b"PK\x03\x04\x14\0";
    const MP4: &[u8] = b"\0\0\0\x20ftypisom\0\0\x02\0";

    #[test]
    fn a_files_type_is_what_its_content_shows() {
        let cases: &[(&str, &[u8], Result<&str, &str>)] = &[
            ("photo.PNG", PNG, Ok("image/png")),
            ("photo.jpeg", JPEG, Ok("image/jpeg")),
            ("invoice.pdf", PDF, Ok("application/pdf")),
            ("offer.docx", ZIP, Ok("application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
            ("clip.mp4", MP4, Ok("video/mp4")),
            ("notes.txt", "Grüße\tand lines\r\n".as_bytes(), Ok("text/plain")),
            ("orders.csv", b"id,total\n1,9.50\n", Ok("text/csv")),
            // A name that lies about the content.
            ("photo.png", PDF, Err("mismatch")),
            ("invoice.pdf", b"<html><script>", Err("mismatch")),
            ("notes.txt", b"MZ\x90\0\x03\0", Err("mismatch")),
            // Types a browser would run, or no type at all.
            ("page.html", b"<html>", Err("type")),
            ("logo.svg", b"<svg xmlns=", Err("type")),
            ("setup.exe", b"MZ\x90\0", Err("type")),
            ("README", b"hello", Err("type")),
            ("empty.png", b"", Err("empty")),
        ];
        for (name, head, want) in cases {
            let got = file_type(name, head, true).map_err(|e| match e {
                FileRefusal::Mismatch { .. } => "mismatch",
                FileRefusal::Type { .. } => "type",
                FileRefusal::Empty { .. } => "empty",
                _ => "other",
            });
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn text_cut_by_the_sniffing_window_is_still_text() {
        let mut head = "a".repeat(SNIFF_BYTES - 1).into_bytes();
        head.push(0xC3); // the first byte of "é"
        assert_eq!(file_type("notes.txt", &head, false), Ok("text/plain"));
        assert!(file_type("notes.txt", &head, true).is_err(), "a whole file cut short is not text");
    }

    #[test]
    fn each_channel_carries_what_its_provider_takes() {
        let f = |name: &'static str, mime: &'static str, mb: u64| Sent { name, mime, size: mb * MB };
        let cases: &[(ChannelKind, Vec<Sent<'_>>, &str)] = &[
            (ChannelKind::Whatsapp, vec![f("a.jpg", "image/jpeg", 5)], "ok"),
            (ChannelKind::Whatsapp, vec![f("a.jpg", "image/jpeg", 6)], "too large"),
            (ChannelKind::Whatsapp, vec![f("a.gif", "image/gif", 1)], "channel"),
            (ChannelKind::Whatsapp, vec![f("a.mp4", "video/mp4", 16)], "ok"),
            (ChannelKind::Whatsapp, vec![f("a.mp4", "video/mp4", 17)], "too large"),
            (ChannelKind::Whatsapp, vec![f("a.pdf", "application/pdf", 25)], "ok"),
            (ChannelKind::Sms, vec![f("a.jpg", "image/jpeg", 3), f("b.jpg", "image/jpeg", 2)], "ok"),
            (ChannelKind::Sms, vec![f("a.jpg", "image/jpeg", 3), f("b.jpg", "image/jpeg", 3)], "total"),
            (ChannelKind::Instagram, vec![f("a.pdf", "application/pdf", 1)], "channel"),
            (ChannelKind::Instagram, vec![f("a.png", "image/png", 8)], "ok"),
            (ChannelKind::Messenger, vec![f("a.pdf", "application/pdf", 25)], "ok"),
            (ChannelKind::Messenger, vec![f("a.pdf", "application/pdf", 26)], "too large"),
            (ChannelKind::Email, vec![f("a.pdf", "application/pdf", 20), f("b.pdf", "application/pdf", 6)], "total"),
            (ChannelKind::Webchat, vec![f("a.pdf", "application/pdf", 0)], "empty"),
            (ChannelKind::InApp, (0..11).map(|_| f("a.png", "image/png", 1)).collect(), "too many"),
        ];
        for (channel, files, want) in cases {
            let got = match fits_channel(*channel, files) {
                Ok(()) => "ok",
                Err(FileRefusal::TooLarge { .. }) => "too large",
                Err(FileRefusal::TotalTooLarge { .. }) => "total",
                Err(FileRefusal::Channel { .. }) => "channel",
                Err(FileRefusal::Empty { .. }) => "empty",
                Err(FileRefusal::TooMany) => "too many",
                Err(other) => panic!("{other}"),
            };
            assert_eq!(got, *want, "{channel:?} {files:?}");
        }
    }

    #[test]
    fn a_reply_is_split_into_the_messages_its_channel_sends() {
        let pic = ("a.jpg", "image/jpeg");
        let voice = ("v.ogg", "audio/ogg");
        let doc = ("b.pdf", "application/pdf");
        type Want = Vec<(&'static str, Vec<&'static str>)>;
        type Case = (ChannelKind, &'static str, Vec<(&'static str, &'static str)>, Want);
        let cases: Vec<Case> = vec![
            (ChannelKind::Sms, "Here", vec![pic, doc], vec![("Here", vec!["a.jpg", "b.pdf"])]),
            (ChannelKind::Email, "", vec![doc], vec![("", vec!["b.pdf"])]),
            (ChannelKind::Whatsapp, "Here", vec![pic], vec![("Here", vec!["a.jpg"])]),
            (ChannelKind::Whatsapp, "Here", vec![pic, doc], vec![("Here", vec!["a.jpg"]), ("", vec!["b.pdf"])]),
            (ChannelKind::Whatsapp, "Listen", vec![voice], vec![("Listen", vec![]), ("", vec!["v.ogg"])]),
            (ChannelKind::Whatsapp, "", vec![voice, pic], vec![("", vec!["v.ogg"]), ("", vec!["a.jpg"])]),
            (ChannelKind::Messenger, "Here", vec![pic], vec![("Here", vec![]), ("", vec!["a.jpg"])]),
            (ChannelKind::Instagram, "", vec![pic, pic], vec![("", vec!["a.jpg"]), ("", vec!["a.jpg"])]),
            (ChannelKind::Messenger, "Only text", vec![], vec![("Only text", vec![])]),
        ];
        for (channel, body, files, want) in cases {
            let got: Vec<(String, Vec<&str>)> = split(channel, body, &files, |f| f.1)
                .into_iter()
                .map(|(b, fs)| (b, fs.iter().map(|f| f.0).collect()))
                .collect();
            let want: Vec<(String, Vec<&str>)> = want.into_iter().map(|(b, fs)| (b.to_owned(), fs)).collect();
            assert_eq!(got, want, "{channel:?} {body:?}");
            for (b, fs) in &got {
                let sent: Vec<Sent<'_>> = fs
                    .iter()
                    .map(|n| Sent {
                        name: n,
                        mime: if n.ends_with(".ogg") { "audio/ogg" } else { "image/jpeg" },
                        size: 1,
                    })
                    .collect();
                assert_eq!(fits_one_message(channel, b, &sent), Ok(()), "{channel:?}: each message fits");
            }
        }
        let two = [Sent { name: "a.jpg", mime: "image/jpeg", size: 1 }; 2];
        assert!(fits_one_message(ChannelKind::Whatsapp, "", &two).is_err());
        assert!(fits_one_message(ChannelKind::Messenger, "Hi", &two[..1]).is_err());
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        let cases = [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1 KB"), (48_213, "48 KB"), (MB, "1 MB")];
        for (bytes, want) in cases {
            assert_eq!(human_size(bytes), want);
        }
        assert_eq!(human_size(3 * MB + MB / 5), "3.2 MB");
        assert_eq!(human_size(MAX_FILE_BYTES + 1), "25.1 MB");
    }
}
