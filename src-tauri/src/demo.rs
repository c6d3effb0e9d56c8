//! The local demo ("Try the local demo", `--demo`): a demo hub embedded in the app, and the
//! people of its workspace. The app links the hub only for this, behind the `demo` cargo
//! feature (on by default). Built without it, the demo commands stay (the window calls the
//! same commands either way): there are no demo people, so the sign-in screen offers no demo,
//! and starting one answers a clear error. The demo workspace itself lives in
//! `switchboard_hub::demo`; signing in to it lives in `shell`.

use std::path::Path;
use switchboard_protocol::console::DemoLogin;

/// Someone of the demo workspace to sign in as.
#[derive(Debug, Clone)]
pub struct Person {
    pub email: String,
    pub password: String,
}

#[cfg(feature = "demo")]
mod embedded {
    use super::{DemoLogin, Path, Person};
    use std::time::Duration;
    use switchboard_hub::demo;
    use switchboard_protocol::model::Role;
    use switchboard_protocol::{ApiError, ErrorCode};

    /// How often the demo's simulated customers write.
    const TRAFFIC: Duration = Duration::from_secs(20);

    /// The demo hub, serving on loopback while it is kept; dropping it stops it.
    #[derive(Debug)]
    pub struct Hub(demo::EmbeddedDemo);

    impl Hub {
        /// Starts the demo hub on the SQLite file `database` (seeded on first use).
        pub async fn start(database: &Path) -> Result<Hub, ApiError> {
            demo::EmbeddedDemo::start(database, TRAFFIC)
                .await
                .map(Hub)
                .map_err(|e| ApiError::new(ErrorCode::Unavailable, format!("the demo could not start: {e}")))
        }

        /// The hub's base URL.
        pub fn url(&self) -> &str {
            &self.0.url
        }
    }

    /// Everyone of the demo workspace, the first agent first.
    pub fn people() -> Result<Vec<Person>, ApiError> {
        Ok(demo::logins().into_iter().map(|l| Person { email: l.email, password: l.password }).collect())
    }

    /// The demo's logins the sign-in screen offers (agents and a lead).
    pub fn logins() -> Vec<DemoLogin> {
        demo::logins()
            .into_iter()
            .filter(|l| l.role != Role::Admin)
            .map(|l| DemoLogin { name: l.name, email: l.email, role: l.role })
            .collect()
    }
}

#[cfg(not(feature = "demo"))]
mod embedded {
    use super::{DemoLogin, Path, Person};
    use switchboard_protocol::{ApiError, ErrorCode};

    fn not_built() -> ApiError {
        ApiError::new(ErrorCode::NotFound, "this build of Switchboard has no local demo: sign in to a hub instead")
    }

    /// No demo hub in this build: one can never start.
    #[derive(Debug)]
    pub enum Hub {}

    impl Hub {
        pub async fn start(_database: &Path) -> Result<Hub, ApiError> {
            Err(not_built())
        }

        pub fn url(&self) -> &str {
            match *self {}
        }
    }

    pub fn people() -> Result<Vec<Person>, ApiError> {
        Err(not_built())
    }

    /// None: the sign-in screen offers no demo.
    pub fn logins() -> Vec<DemoLogin> {
        Vec::new()
    }
}

pub use embedded::{logins, people, Hub};
