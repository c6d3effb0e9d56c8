//! The console's version as it tells the hub (the `Switchboard-Console` header on every
//! request it makes), and how versions compare, so a hub can require consoles of at least a
//! version before they sync (`upgrade_required`).

/// The header a console names its version in.
pub const CONSOLE_HEADER: &str = "switchboard-console";

/// A version `MAJOR.MINOR.PATCH` (a pre-release or build suffix after `-` or `+` is
/// ignored), compared number by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Reads `1.2.3` (also `1.2.3-beta.1`, `v1.2.3`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        if s.is_empty() || s.len() > 64 {
            return None;
        }
        let core = s.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let mut next = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version(next()?, next()?, next()?);
        parts.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_and_compared() {
        let cases: &[(&str, Option<Version>)] = &[
            ("0.1.0", Some(Version(0, 1, 0))),
            ("v2.10.3", Some(Version(2, 10, 3))),
            ("1.2.3-beta.1", Some(Version(1, 2, 3))),
            ("1.2.3+build.7", Some(Version(1, 2, 3))),
            (" 1.2.3 ", Some(Version(1, 2, 3))),
            ("1.2", None),
            ("1.2.3.4", None),
            ("1..3", None),
            ("1.2.x", None),
            ("-1.2.3", None),
            ("99999999999.0.0", None),
            ("", None),
            ("switchboard", None),
        ];
        for (s, want) in cases {
            assert_eq!(Version::parse(s), *want, "{s:?}");
        }
        assert!(Version(0, 10, 0) > Version(0, 9, 9), "numbers, not text");
        assert!(Version(1, 0, 0) > Version(0, 99, 99));
        assert_eq!(Version(0, 2, 0).to_string(), "0.2.0");
    }
}
