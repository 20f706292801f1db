//! SQL dialects the core reads and writes: PostgreSQL, MySQL (and MariaDB) and SQLite.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A SQL dialect for DDL export, DDL import and migration SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlDialect {
    Postgres,
    Mysql,
    Sqlite,
}

impl SqlDialect {
    pub const ALL: [SqlDialect; 3] = [SqlDialect::Postgres, SqlDialect::Mysql, SqlDialect::Sqlite];

    /// The short name used on the command line and in file names.
    pub fn id(self) -> &'static str {
        match self {
            SqlDialect::Postgres => "postgres",
            SqlDialect::Mysql => "mysql",
            SqlDialect::Sqlite => "sqlite",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            SqlDialect::Postgres => "PostgreSQL",
            SqlDialect::Mysql => "MySQL / MariaDB",
            SqlDialect::Sqlite => "SQLite",
        }
    }
}

impl fmt::Display for SqlDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for SqlDialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(SqlDialect::Postgres),
            "mysql" | "mariadb" => Ok(SqlDialect::Mysql),
            "sqlite" | "sqlite3" => Ok(SqlDialect::Sqlite),
            other => Err(format!(
                "unknown SQL dialect `{other}`: use postgres, mysql or sqlite"
            )),
        }
    }
}
