//! Real database engines for the SQL tests: SQLite through the `sqlite3` shell, PostgreSQL 15
//! and MariaDB started by the test binary itself, each in its own temporary directory and
//! reachable only through a unix socket (no TCP).
//!
//! A *server* (PostgreSQL, MariaDB) starts once per test binary, on first use, and every test
//! works in its own database, so tests run in parallel. Statics are never dropped, so a server
//! is stopped by a *watchdog*: a small shell process started with it that waits for the test
//! binary to exit (however it exits: success, failed assertion, abort, kill) and then stops
//! the server's process group and removes its directory. Servers and watchdogs run in their own
//! process groups so that an interrupted `cargo test` cannot kill a watchdog before it cleans
//! up. As root, PostgreSQL runs as the `postgres` user (it refuses to run as root).

use model::SqlDialect;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const START_TIMEOUT: Duration = Duration::from_secs(60);

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// A fresh database name, unique in this test binary.
pub fn fresh_name(prefix: &str) -> String {
    format!("{prefix}_{}", NEXT_DB.fetch_add(1, Ordering::Relaxed))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `cmd` with `stdin` as input; `Err` carries the command, its status and its stderr.
fn run(mut cmd: Command, stdin: &str) -> Result<String, String> {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .map_err(|e| format!("cannot write to {what}: {e}"))?;
    }
    let out: Output = child
        .wait_with_output()
        .map_err(|e| format!("cannot wait for {what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed with {}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

/// Starts the watchdog that stops process group `pgid` with `signal` (then `KILL` after ten
/// seconds) and removes `dir` once this test binary has exited.
fn watchdog(pgid: u32, signal: &str, dir: &Path) {
    let me = std::process::id();
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.2; done; \
         kill -{signal} -{pgid} 2>/dev/null; \
         for i in $(seq 1 50); do kill -0 -{pgid} 2>/dev/null || break; sleep 0.2; done; \
         kill -KILL -{pgid} 2>/dev/null; rm -rf '{}'",
        dir.display()
    );
    use std::os::unix::process::CommandExt as _;
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

/// Waits until `ready` holds, or fails after [`START_TIMEOUT`] with `log`'s content.
fn wait_until(what: &str, log: &Path, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < START_TIMEOUT {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{what} did not become ready in {START_TIMEOUT:?}; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}

/// A temporary directory kept for the watchdog to remove (it outlives every test).
fn kept_dir(prefix: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory")
        .keep()
}

/// SQLite: a database file in a temporary directory, driven by the `sqlite3` shell.
pub struct Sqlite {
    _dir: tempfile::TempDir,
    file: PathBuf,
}

impl Sqlite {
    pub fn new() -> Sqlite {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("test.db");
        Sqlite { _dir: dir, file }
    }

    /// Runs a script, stopping at the first error.
    pub fn exec(&self, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new("sqlite3");
        cmd.arg("-bail").arg(&self.file);
        run(cmd, sql)
    }

    /// The schema as the engine stores it.
    pub fn dump(&self) -> Result<String, String> {
        let mut cmd = Command::new("sqlite3");
        cmd.arg(&self.file).arg(".schema");
        run(cmd, "")
    }

    /// One value per line for a query.
    pub fn query(&self, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new("sqlite3");
        cmd.arg("-bail").arg("-list").arg(&self.file).arg(sql);
        run(cmd, "")
    }
}

/// A PostgreSQL 15 server on a unix socket.
pub struct Postgres {
    socket_dir: PathBuf,
    as_postgres: bool,
}

impl Postgres {
    /// The server for this test binary, started on first use.
    pub fn shared() -> &'static Postgres {
        static SERVER: OnceLock<Result<Postgres, String>> = OnceLock::new();
        match SERVER.get_or_init(Postgres::start) {
            Ok(server) => server,
            Err(e) => panic!("PostgreSQL did not start: {e}"),
        }
    }

    fn command(&self, program: &str) -> Command {
        let path = format!("{PG_BIN}/{program}");
        if self.as_postgres {
            let mut cmd = Command::new("setpriv");
            cmd.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                &path,
            ]);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn start() -> Result<Postgres, String> {
        let dir = kept_dir("dm-pg-");
        let as_postgres = is_root();
        if as_postgres {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("-R").arg("postgres:postgres").arg(&dir);
                    c
                },
                "",
            )?;
        }
        let server = Postgres {
            socket_dir: dir.clone(),
            as_postgres,
        };
        let data = dir.join("data");
        let mut initdb = server.command("initdb");
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(initdb, "")?;
        let log = dir.join("postgres.log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        if as_postgres {
            let _ = Command::new("chown").arg("postgres").arg(&log).status();
        }
        let mut postgres = server.command("postgres");
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&dir)
            .args([
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        use std::os::unix::process::CommandExt as _;
        postgres.process_group(0);
        let child = postgres
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        // SIGINT is PostgreSQL's fast shutdown.
        watchdog(child.id(), "INT", &dir);
        wait_until("PostgreSQL", &log, || {
            server.psql("postgres", "SELECT 1;").is_ok()
        })?;
        Ok(server)
    }

    fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new(format!("{PG_BIN}/psql"));
        cmd.arg("-h").arg(&self.socket_dir).args([
            "-U",
            "postgres",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            db,
        ]);
        run(cmd, sql)
    }

    /// A new empty database.
    pub fn create_db(&self) -> Result<String, String> {
        let name = fresh_name("dm");
        self.psql("postgres", &format!("CREATE DATABASE {name};"))?;
        Ok(name)
    }

    /// Runs a script in `db`, stopping at the first error.
    pub fn exec(&self, db: &str, sql: &str) -> Result<String, String> {
        self.psql(db, sql)
    }

    /// `pg_dump --schema-only` of `db`.
    pub fn dump(&self, db: &str) -> Result<String, String> {
        let mut cmd = Command::new(format!("{PG_BIN}/pg_dump"));
        cmd.arg("-h").arg(&self.socket_dir).args([
            "-U",
            "postgres",
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            db,
        ]);
        run(cmd, "")
    }
}

/// A MariaDB server on a unix socket, networking off.
pub struct Mariadb {
    socket: PathBuf,
}

impl Mariadb {
    /// The server for this test binary, started on first use.
    pub fn shared() -> &'static Mariadb {
        static SERVER: OnceLock<Result<Mariadb, String>> = OnceLock::new();
        match SERVER.get_or_init(Mariadb::start) {
            Ok(server) => server,
            Err(e) => panic!("MariaDB did not start: {e}"),
        }
    }

    fn start() -> Result<Mariadb, String> {
        let dir = kept_dir("dm-maria-");
        let data = dir.join("data");
        let socket = dir.join("mysqld.sock");
        let log = dir.join("error.log");
        let root = is_root();
        let mut install = Command::new("mariadb-install-db");
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if root {
            install.arg("--user=root");
        }
        run(install, "")?;
        let mut server = Command::new("mariadbd");
        server
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .args([
                "--skip-networking",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-buffer-pool-size=64M",
                "--skip-log-bin",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if root {
            server.arg("--user=root");
        }
        use std::os::unix::process::CommandExt as _;
        server.process_group(0);
        let child = server
            .spawn()
            .map_err(|e| format!("cannot start mariadbd: {e}"))?;
        watchdog(child.id(), "TERM", &dir);
        let server = Mariadb { socket };
        wait_until("MariaDB", &log, || server.client(None, "SELECT 1;").is_ok())?;
        Ok(server)
    }

    fn client(&self, db: Option<&str>, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new("mariadb");
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .args(["-uroot", "--batch", "--skip-column-names"]);
        if let Some(db) = db {
            cmd.arg(db);
        }
        run(cmd, sql)
    }

    /// A new empty database.
    pub fn create_db(&self) -> Result<String, String> {
        let name = fresh_name("dm");
        self.client(
            None,
            &format!("CREATE DATABASE {name} CHARACTER SET utf8mb4;"),
        )?;
        Ok(name)
    }

    /// Runs a script in `db`, stopping at the first error.
    pub fn exec(&self, db: &str, sql: &str) -> Result<String, String> {
        self.client(Some(db), sql)
    }

    /// `mariadb-dump --no-data` of `db`.
    pub fn dump(&self, db: &str) -> Result<String, String> {
        let mut cmd = Command::new("mariadb-dump");
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .args(["-uroot", "--no-data", "--compact", "--skip-comments", db]);
        run(cmd, "")
    }
}

/// One empty database in one engine, for the tests that load DDL into all three.
pub enum Db {
    Sqlite(Sqlite),
    Postgres(&'static Postgres, String),
    Mariadb(&'static Mariadb, String),
}

impl Db {
    pub fn new(dialect: SqlDialect) -> Db {
        match dialect {
            SqlDialect::Sqlite => Db::Sqlite(Sqlite::new()),
            SqlDialect::Postgres => {
                let server = Postgres::shared();
                Db::Postgres(server, server.create_db().expect("database created"))
            }
            SqlDialect::Mysql => {
                let server = Mariadb::shared();
                Db::Mariadb(server, server.create_db().expect("database created"))
            }
        }
    }

    /// Runs a script; a query's rows come back one per line, columns separated by a tab or `|`.
    pub fn exec(&self, sql: &str) -> Result<String, String> {
        match self {
            Db::Sqlite(db) => db.exec(sql),
            Db::Postgres(server, db) => server.exec(db, sql),
            Db::Mariadb(server, db) => server.exec(db, sql),
        }
    }

    pub fn dump(&self) -> Result<String, String> {
        match self {
            Db::Sqlite(db) => db.dump(),
            Db::Postgres(server, db) => server.dump(db),
            Db::Mariadb(server, db) => server.dump(db),
        }
    }

    pub fn query(&self, sql: &str) -> Result<String, String> {
        match self {
            Db::Sqlite(db) => db.query(sql),
            _ => self.exec(sql),
        }
    }
}
