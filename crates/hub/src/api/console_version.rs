//! The oldest console a hub accepts: a console names its version on every request
//! (`Switchboard-Console`), and one older than `min_console_version` is answered
//! `426 upgrade_required`, so it tells its agent to update before it syncs again.

use super::Failure;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use switchboard_protocol::version::{Version, CONSOLE_HEADER};
use switchboard_protocol::{ApiError, ErrorCode};

/// Whether a request naming console version `named` (none: not a console) may go on when
/// the hub requires at least `min`.
pub fn admit(named: Option<&str>, min: Option<Version>) -> Result<(), ApiError> {
    let (Some(named), Some(min)) = (named, min) else { return Ok(()) };
    let Some(version) = Version::parse(named) else {
        return Err(ApiError::new(ErrorCode::BadRequest, format!("the {CONSOLE_HEADER} header is not a version")));
    };
    if version < min {
        return Err(ApiError::new(
            ErrorCode::UpgradeRequired,
            format!("Switchboard {version} is older than this hub accepts ({min} or newer): update the console"),
        ));
    }
    Ok(())
}

/// The middleware: answers an outdated console before any handler runs.
pub async fn gate(State(min): State<Option<Version>>, req: Request, next: axum::middleware::Next) -> Response {
    let named = req.headers().get(CONSOLE_HEADER).map(|v| v.to_str().unwrap_or("?"));
    match admit(named, min) {
        Ok(()) => next.run(req).await,
        Err(e) => Failure(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (case, version named, minimum, refusal)
    type Case<'a> = (&'a str, Option<&'a str>, Option<Version>, Option<ErrorCode>);

    #[test]
    fn an_outdated_console_is_told_to_update() {
        let min = Some(Version(0, 2, 0));
        let cases: &[Case] = &[
            ("no minimum", Some("0.0.1"), None, None),
            ("not a console", None, min, None),
            ("the minimum itself", Some("0.2.0"), min, None),
            ("newer", Some("0.10.0"), min, None),
            ("a pre-release of the minimum", Some("0.2.0-beta.1"), min, None),
            ("older", Some("0.1.9"), min, Some(ErrorCode::UpgradeRequired)),
            ("not a version", Some("latest"), min, Some(ErrorCode::BadRequest)),
        ];
        for (what, named, min, want) in cases {
            assert_eq!(admit(*named, *min).err().map(|e| e.code), *want, "{what}");
        }
    }
}
