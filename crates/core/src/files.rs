//! Customers' files on the agent's disk: the name a file is shown and saved under (never
//! hiding what it is behind right-to-left overrides or invisible characters), whether
//! the desktop may open it with the system's default handler (only inert kinds, known by
//! both their extension and their first bytes), and the mark that tells the system it came
//! from the internet. The decisions are pure functions, tested by table.

use std::borrow::Cow;
use std::path::Path;

/// Characters that change how text around them is ordered or shown without being seen:
/// the bidirectional overrides, embeddings and isolates, the direction marks, and the
/// zero-width characters.
fn is_hidden_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}'
    )
}

/// A file name as agents see it: what it is, with the characters that reorder or hide
/// parts of it removed (`invoice\u{202E}gnp.exe`, listed as `invoiceexe.png`, shows as
/// `invoicegnp.exe`), and no control characters.
pub fn display_name(name: &str) -> Cow<'_, str> {
    let shown = |c: &char| !is_hidden_format(*c) && !c.is_control();
    if name.chars().all(|c| shown(&c)) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(name.chars().filter(shown).collect())
    }
}

/// A file name for a downloaded attachment that cannot leave its folder or hide: letters,
/// digits, `.`, `-`, `_` and spaces, at most 120 characters, not starting with a dot.
pub fn safe_file_name(name: &str, index: usize) -> String {
    let cleaned: String = display_name(name)
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    if cleaned.is_empty() {
        format!("attachment-{}", index + 1)
    } else {
        cleaned.chars().take(120).collect()
    }
}

/// What the desktop does with a saved customer file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// An inert kind (a document, a picture, a sound or a film, plain text): opened with
    /// the system's viewer.
    Open,
    /// Anything else: shown in its folder, not opened, with why.
    Reveal { warning: String },
}

/// An inert kind: its extensions, and whether a file's first bytes look like it.
type Kind = (&'static [&'static str], fn(&[u8]) -> bool);

/// The inert kinds.
const INERT: &[Kind] = &[
    (&["pdf"], |b| b.starts_with(b"%PDF-")),
    (&["png"], |b| b.starts_with(b"\x89PNG\r\n\x1a\n")),
    (&["jpg", "jpeg"], |b| b.starts_with(&[0xFF, 0xD8, 0xFF])),
    (&["gif"], |b| b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")),
    (&["webp"], |b| b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP"),
    (&["bmp"], |b| b.starts_with(b"BM")),
    (&["wav"], |b| b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE"),
    (&["mp3"], |b| b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0)),
    (&["ogg", "oga", "opus"], |b| b.starts_with(b"OggS")),
    (&["mp4", "m4a", "mov", "3gp"], |b| b.len() >= 8 && &b[4..8] == b"ftyp"),
    (&["webm"], |b| b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])),
    (&["txt", "csv"], |b| (!b.contains(&0) && std::str::from_utf8(b).is_ok()) || utf8_cut_short(b)),
];

/// Whether `b` is UTF-8 but for a character cut off at its end (a file's first bytes).
fn utf8_cut_short(b: &[u8]) -> bool {
    !b.contains(&0) && std::str::from_utf8(b).err().is_some_and(|e| e.error_len().is_none())
}

/// Whether a saved file named `name`, starting with `head`, may be opened with the system's
/// default handler. Only an inert kind is, and only when its first bytes are that kind's:
/// `invoice.pdf.js`, a `.exe`, `.hta` or `.lnk`, or a program named `photo.png`, is shown in
/// its folder instead.
pub fn opening(name: &str, head: &[u8]) -> Opening {
    let extension = Path::new(name).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let inert = extension.as_deref().and_then(|ext| INERT.iter().find(|(exts, _)| exts.contains(&ext)));
    match inert {
        Some((_, looks_right)) if looks_right(head) => Opening::Open,
        Some(_) => {
            Opening::Reveal { warning: format!("{name} is not what its name says; it was saved and not opened") }
        }
        None => Opening::Reveal {
            warning: format!(
                "{name} could run a program, so it was saved and not opened; open it only if you trust it"
            ),
        },
    }
}

/// Marks a downloaded file as coming from the internet, where the system keeps such a
/// mark (Windows: the `Zone.Identifier` stream that makes Windows warn before running it;
/// macOS: the quarantine attribute). Other systems keep none.
pub fn mark_from_internet(path: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        let mut stream = path.as_os_str().to_owned();
        stream.push(":Zone.Identifier");
        std::fs::write(std::path::PathBuf::from(stream), "[ZoneTransfer]\r\nZoneId=3\r\n")?;
    }
    #[cfg(target_os = "macos")]
    {
        let value = format!("0081;{:08x};Switchboard;", crate::clock::now_ms() / 1000);
        let status = std::process::Command::new("/usr/bin/xattr")
            .args(["-w", "com.apple.quarantine", &value])
            .arg(path)
            .status()?;
        if !status.success() {
            return Err(std::io::Error::other("xattr could not set the quarantine attribute"));
        }
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    let _ = path;
    Ok(())
}

/// `name` in `dir`, or `name (2)`, `name (3)`… when a file has it: a download never
/// writes over another file.
pub fn unused_path(dir: &Path, name: &str) -> std::path::PathBuf {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    let mut path = dir.join(name);
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{stem} ({n}){ext}"));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_show_what_they_are() {
        for (name, shown, saved) in [
            ("invoice.pdf", "invoice.pdf", "invoice.pdf"),
            ("invoice\u{202E}gnp.exe", "invoicegnp.exe", "invoicegnp.exe"),
            ("photo\u{200B}.png\u{2066}.exe", "photo.png.exe", "photo.png.exe"),
            ("a\u{0}b\u{7}.txt", "ab.txt", "ab.txt"),
            ("../../etc/passwd", "../../etc/passwd", "_.._etc_passwd"),
            ("..", "..", "attachment-3"),
            (".bashrc", ".bashrc", "bashrc"),
            ("", "", "attachment-3"),
            ("photo 1.jpg", "photo 1.jpg", "photo 1.jpg"),
            ("a/b\\c.txt", "a/b\\c.txt", "a_b_c.txt"),
            ("ファイル.pdf", "ファイル.pdf", "ファイル.pdf"),
        ] {
            assert_eq!(display_name(name), shown, "{name:?}");
            assert_eq!(safe_file_name(name, 2), saved, "{name:?}");
        }
    }

    /// Finding: opening an email attachment ran it. Which files the desktop opens.
    #[test]
    fn only_inert_files_are_opened() {
        let pdf = b"%PDF-1.7\n...";
        let png = b"\x89PNG\r\n\x1a\n....";
        let exe = b"MZ\x90\x00\x03";
        let text = "Order 7781, ça va — ok\n".as_bytes();
        let open = |name: &str, head: &[u8]| opening(name, head) == Opening::Open;
        for (name, head, opens) in [
            ("invoice.pdf", &pdf[..], true),
            ("INVOICE.PDF", &pdf[..], true),
            ("photo.png", &png[..], true),
            ("photo.jpeg", &[0xFF, 0xD8, 0xFF, 0xE0][..], true),
            ("clip.mp4", &b"\x00\x00\x00\x18ftypmp42"[..], true),
            ("voice.ogg", &b"OggS\x00\x02"[..], true),
            ("notes.txt", text, true),
            ("notes.txt", &text[..text.len() - 1], true),
            ("cut.txt", &"ça".as_bytes()[..1], true),
            ("invoice.pdf.js", &b"var x = 1;"[..], false),
            ("invoice.pdf.exe", exe, false),
            ("setup.exe", exe, false),
            ("page.hta", &b"<html>"[..], false),
            ("shortcut.lnk", &b"L\x00\x00\x00"[..], false),
            ("script.ps1", &b"Write-Host"[..], false),
            ("macro.docm", &b"PK\x03\x04"[..], false),
            ("page.html", &b"<html>"[..], false),
            ("photo.png", exe, false),
            ("invoice.pdf", &b"<script>"[..], false),
            ("binary.txt", &b"MZ\x00\x00"[..], false),
            ("noextension", pdf, false),
            ("invoice\u{202E}gnp.exe", exe, false),
        ] {
            assert_eq!(open(name, head), opens, "{name:?}");
        }
        assert_eq!(
            opening("setup.exe", exe),
            Opening::Reveal {
                warning: "setup.exe could run a program, so it was saved and not opened; open it only if you trust it"
                    .into()
            }
        );
        assert!(
            matches!(opening("photo.png", exe), Opening::Reveal { warning } if warning.contains("not what its name says"))
        );
    }

    #[test]
    fn marking_a_file_keeps_it_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pdf");
        std::fs::write(&path, b"%PDF-1.7").unwrap();
        mark_from_internet(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1.7");
    }
}
