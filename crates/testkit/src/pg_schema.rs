//! A private schema on the PostgreSQL server tests and benchmarks use
//! (`SWITCHBOARD_TEST_PG`, or the project machines' `postgres://postgres@127.0.0.1:5432/test`),
//! made fresh and dropped with its handle, so runs never see each other's rows.

/// The server tests and benchmarks use.
pub fn server() -> String {
    std::env::var("SWITCHBOARD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema made for one run; dropped (with everything in it) when this is dropped.
pub struct Schema {
    /// The database URL whose connections use the schema.
    pub url: String,
    name: String,
}

impl Schema {
    /// Makes `<prefix>_<process id>` afresh. Runs on its own thread, so it may be called
    /// from inside an async runtime.
    pub fn new(prefix: &str) -> Schema {
        let name = format!("{prefix}_{}", std::process::id());
        let (server, sql) = (server(), format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"));
        let s = server.clone();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&s, postgres::NoTls)
                .unwrap_or_else(|e| panic!("PostgreSQL at {s} is required: {e}"));
            c.batch_execute(&sql).unwrap();
        })
        .join()
        .unwrap();
        let sep = if server.contains('?') { '&' } else { '?' };
        Schema { url: format!("{server}{sep}options=-csearch_path%3D{name}"), name }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (server, sql) = (server(), format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&server, postgres::NoTls) {
                let _ = c.batch_execute(&sql);
            }
        })
        .join();
    }
}
