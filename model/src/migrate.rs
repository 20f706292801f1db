//! Migration SQL: the statements that turn a database made from one draft into the next.
//!
//! Terms: the *old* model made the database, the *new* one is wanted. Entities and attributes
//! are paired by [`match_models`], the matching the semantic diff is built on, so a rename is a
//! rename (`ALTER TABLE ... RENAME`) and keeps its rows, not a drop plus an add. A thing is
//! *kept* when it is in both models with the same definition under the pairing; everything else
//! is dropped and created again. After a migration the database has the same tables, columns,
//! keys, indexes and constraint names as one created from `ddl(new)`, which is what lets the
//! next migration find things by name: renaming a table also renames its derived names (the
//! `<table>_pkey`, `<table>_<columns>_key` and `<table>_<column>` enum types).
//!
//! Every dialect follows one ordered list of *steps* (`STEPS`), in an order where every step is
//! legal: foreign keys, indexes and constraints that go away are dropped first, then tables and
//! columns, then renames, new tables, column changes, keys, indexes, and foreign keys last, then
//! descriptions. Where the dialects' SQL differs a step calls the dialect's *hooks* (the `Hooks`
//! trait, one implementation per dialect); a step a dialect has no part in writes nothing there.
//! PostgreSQL runs the whole migration in one transaction.
//!
//! SQLite alters in place what `ALTER TABLE` can do (rename a table or column, add a nullable
//! or constant-defaulted column, drop a column no key or constraint names) and otherwise, in a
//! step only it has, rebuilds the table the way the SQLite manual prescribes ("making other kinds of table schema
//! changes"): with foreign keys off, create the new table under a temporary name, copy the rows
//! (renamed columns already carry their new names), drop the old table, rename the new one,
//! create its indexes, and check every foreign key before committing. A table is not rebuilt
//! for a description alone, so its `-- ` comments keep the old text. Needs SQLite 3.35 or later.
//!
//! Data decisions: a column that becomes `NOT NULL` and has a default gets the default where it
//! was null (otherwise the change would fail on the first null); a new `NOT NULL` column without
//! a default is added as asked, which works on an empty table and makes PostgreSQL and SQLite
//! refuse the migration, with their own message, on a table with rows (MySQL fills the type's
//! zero value, such as `''` or `0`). Type changes cast the values
//! (`USING column::type` in PostgreSQL, through `integer` between a boolean and another
//! number); values that do not cast make the engine refuse. In MySQL a foreign key or an index
//! over a column whose written type changes (also when only its key length does) is dropped
//! before the change and made again after it: InnoDB refuses to change a foreign key's column,
//! and an index's key parts depend on the type.
//!
//! MySQL (MariaDB 10.5 or later: `RENAME COLUMN`, `RENAME INDEX`, `DROP INDEX IF EXISTS`)
//! changes a column with `MODIFY COLUMN`, which restates the whole column. MySQL
//! commits every DDL statement on its own, so a failed migration stays half applied; the script
//! says so at the top. InnoDB makes an index for a foreign key that has none and keeps it when
//! the key is dropped, so dropping a foreign key drops that index too (`IF EXISTS`).
//!
//! A [`MigrateError`] means the new model cannot exist in the dialect at all (an SQLite table
//! without columns); everything else is written, and the engine has the last word on the data.

use super::dialect::SqlDialect;
use super::diff::{match_models, Matching};
use super::export::sql::{
    add_foreign_key, column_definition, column_type, create_enum_type, create_index, create_table,
    default_sql, fk_ends_all, pk_name, primary_key_clause, quote_ident, string_literal,
    table_order, unique_clause, Naming,
};
use super::logical_type::LogicalType;
use super::types::{Attribute, Entity, Model};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use thiserror::Error;

/// A change the dialect cannot express as a migration.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("cannot migrate: {0}")]
pub struct MigrateError(pub String);

/// Migration SQL from `old` to `new` for `dialect`. Two equal models give a script that
/// changes nothing.
pub fn migration_sql(
    old: &Model,
    new: &Model,
    dialect: SqlDialect,
) -> Result<String, MigrateError> {
    let hooks: &'static dyn Hooks = match dialect {
        SqlDialect::Postgres => &Postgres,
        SqlDialect::Mysql => &Mysql,
        SqlDialect::Sqlite => &Sqlite,
    };
    hooks.check(new)?;
    let migration = Migration::new(Plan::new(old, new, dialect), hooks);
    let mut out = String::from(hooks.header());
    for step in STEPS {
        let body = step.write(&migration);
        if !body.is_empty() {
            let _ = write!(out, "\n-- {}\n{body}", hooks.title(step));
        }
    }
    out.push_str(hooks.footer());
    Ok(out)
}

/// The steps of a migration, in the one order all dialects follow: what goes away first (foreign
/// keys, then indexes and constraints, then tables and columns), then renames, then what is new
/// or changed (tables, columns, keys and indexes, foreign keys last), then descriptions. Each
/// step's comment heads its statements in the script; a step with nothing to do writes nothing.
/// A dialect takes part in a step through its [`Hooks`], and some steps have nothing to do in
/// some dialects: SQLite keeps foreign keys inside its tables and rebuilds a table for what
/// `ALTER TABLE` cannot do, in the step only it has, [`Step::RebuildTables`].
const STEPS: [Step; 10] = [
    Step::DropForeignKeys,
    Step::DropIndexesAndConstraints,
    Step::DropTablesAndColumns,
    Step::Renames,
    Step::RebuildTables,
    Step::CreateTables,
    Step::ChangeColumns,
    Step::AddKeysAndIndexes,
    Step::AddForeignKeys,
    Step::Descriptions,
];

/// One step of [`STEPS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Foreign keys that go away, before anything they depend on.
    DropForeignKeys,
    /// Indexes, unique constraints and primary keys that go away or change (and, in SQLite,
    /// tables that go away).
    DropIndexesAndConstraints,
    /// Tables and columns that go away, with their enum types.
    DropTablesAndColumns,
    /// Tables, then columns, then the names derived from them.
    Renames,
    /// SQLite only: tables altered in place gain columns; the others are rebuilt.
    RebuildTables,
    /// New tables, in reference order.
    CreateTables,
    /// Columns of kept tables: added ones, then changed types, defaults and nullability.
    ChangeColumns,
    /// Keys, unique constraints and indexes that are new or changed.
    AddKeysAndIndexes,
    /// Foreign keys, now that every table, column and key exists.
    AddForeignKeys,
    /// Descriptions of kept tables and columns (new tables got theirs with `CREATE TABLE`).
    Descriptions,
}

impl Step {
    fn title(self) -> &'static str {
        match self {
            Step::DropForeignKeys => "drop foreign keys",
            Step::DropIndexesAndConstraints => "drop indexes and constraints",
            Step::DropTablesAndColumns => "drop tables and columns",
            Step::Renames => "renames",
            Step::RebuildTables => "alter and rebuild tables",
            Step::CreateTables => "create tables",
            Step::ChangeColumns => "add and change columns",
            Step::AddKeysAndIndexes => "add keys and indexes",
            Step::AddForeignKeys => "add foreign keys",
            Step::Descriptions => "descriptions",
        }
    }

    fn write(self, m: &Migration) -> String {
        match self {
            Step::DropForeignKeys => drop_foreign_keys(m),
            Step::DropIndexesAndConstraints => drop_indexes_and_constraints(m),
            Step::DropTablesAndColumns => drop_tables_and_columns(m),
            Step::Renames => renames(m),
            Step::RebuildTables => m.hooks.rebuild_tables(m),
            Step::CreateTables => create_tables(m),
            Step::ChangeColumns => change_columns(m),
            Step::AddKeysAndIndexes => add_keys_and_indexes(m),
            Step::AddForeignKeys => add_foreign_keys(m),
            Step::Descriptions => descriptions(m),
        }
    }
}

/// The plan with what every step asks of it, computed once: what is dropped and added, and
/// which tables SQLite rebuilds.
struct Migration<'a> {
    plan: Plan<'a>,
    hooks: &'static dyn Hooks,
    /// Old entities that the new model does not have, in old order.
    dropped_entities: Vec<usize>,
    dropped: HashSet<usize>,
    /// Old relationships whose foreign key goes away.
    dropped_fks: Vec<usize>,
    /// New relationships whose foreign key is created.
    added_fks: Vec<usize>,
    /// For each new entity, whether its table is rebuilt (SQLite only; never elsewhere).
    rebuilt: Vec<bool>,
    /// For each new entity, the new relationships whose foreign key its table holds, for
    /// dialects that write foreign keys inline (SQLite only; empty elsewhere).
    inline: Vec<Vec<usize>>,
}

impl<'a> Migration<'a> {
    fn new(plan: Plan<'a>, hooks: &'static dyn Hooks) -> Migration<'a> {
        let dropped_entities = plan.dropped_entities();
        let dropped = dropped_entities.iter().copied().collect();
        // Which old foreign key each new one keeps, asked once per relationship: both the
        // dropped and the added foreign keys depend on it.
        let kept: Vec<Option<usize>> = (0..plan.new.relationships.len())
            .map(|ri| plan.kept_fk(ri))
            .collect();
        let dropped_fks = plan.dropped_fks(&kept);
        let added_fks = plan.added_fks(&kept);
        let (rebuilt, inline) = if hooks.rebuilds_tables() {
            let mut inline = vec![Vec::new(); plan.new.entities.len()];
            for (ri, end) in plan.new_ends.iter().enumerate() {
                if let Some((from, _)) = end {
                    inline[*from].push(ri);
                }
            }
            let losing: HashSet<usize> = dropped_fks
                .iter()
                .filter_map(|&ri| plan.old_ends[ri].map(|(from, _)| from))
                .collect();
            let gaining: HashSet<usize> = added_fks
                .iter()
                .filter_map(|&ri| plan.new_ends[ri].map(|(from, _)| from))
                .collect();
            (
                (0..plan.new.entities.len())
                    .map(|ni| needs_rebuild(&plan, ni, &losing, &gaining))
                    .collect(),
                inline,
            )
        } else {
            (vec![false; plan.new.entities.len()], Vec::new())
        };
        Migration {
            plan,
            hooks,
            dropped_entities,
            dropped,
            dropped_fks,
            added_fks,
            rebuilt,
            inline,
        }
    }

    /// The new relationships whose foreign key new entity `ni` holds, for inline foreign keys.
    fn inline_fks(&self, ni: usize) -> &[usize] {
        self.inline.get(ni).map_or(&[], Vec::as_slice)
    }

    /// Old entities that lose columns with `ALTER TABLE ... DROP COLUMN`: every kept table, in
    /// the old model's order; in SQLite only the tables altered in place (a rebuilt table leaves
    /// its dropped columns behind), in the new model's order.
    fn tables_dropping_columns(&self) -> Vec<usize> {
        let plan = &self.plan;
        if self.hooks.rebuilds_tables() {
            (0..plan.new.entities.len())
                .filter(|&ni| !self.rebuilt[ni])
                .filter_map(|ni| plan.old_of_new[ni])
                .collect()
        } else {
            (0..plan.old.entities.len())
                .filter(|oi| !self.dropped.contains(oi))
                .collect()
        }
    }
}

/// The pairing of the two models and the derived names on each side.
struct Plan<'a> {
    old: &'a Model,
    new: &'a Model,
    dialect: SqlDialect,
    old_names: Naming,
    new_names: Naming,
    /// For each new entity, its old entity.
    old_of_new: Vec<Option<usize>>,
    /// For each new entity and each of its attributes, the old attribute index.
    old_attr_of_new: Vec<Vec<Option<usize>>>,
    matching: Matching,
    /// [`fk_ends_all`] of each model, by relationship index, found once: the steps ask for a
    /// relationship's tables per table and per relationship.
    old_ends: Vec<Option<(usize, usize)>>,
    new_ends: Vec<Option<(usize, usize)>>,
    /// The old relationships that are foreign keys, by their (from, to) tables, in old order.
    old_fks_between: HashMap<(usize, usize), Vec<usize>>,
}

impl<'a> Plan<'a> {
    fn new(old: &'a Model, new: &'a Model, dialect: SqlDialect) -> Plan<'a> {
        let matching = match_models(old, new);
        let mut old_of_new = vec![None; new.entities.len()];
        let mut old_attr_of_new: Vec<Vec<Option<usize>>> = new
            .entities
            .iter()
            .map(|e| vec![None; e.attributes.len()])
            .collect();
        for (oi, m) in matching.entities.iter().enumerate() {
            let Some(m) = m else { continue };
            if let Some(slot) = old_of_new.get_mut(m.index) {
                *slot = Some(oi);
            }
            for (oa, am) in matching
                .attributes
                .get(oi)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(am) = am {
                    if let Some(slot) = old_attr_of_new
                        .get_mut(m.index)
                        .and_then(|v| v.get_mut(am.index))
                    {
                        *slot = Some(oa);
                    }
                }
            }
        }
        let old_ends = fk_ends_all(old);
        let mut old_fks_between: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
        for (ri, end) in old_ends.iter().enumerate() {
            if let Some(end) = end {
                old_fks_between.entry(*end).or_default().push(ri);
            }
        }
        Plan {
            old,
            new,
            dialect,
            old_names: Naming::new(old, dialect),
            new_names: Naming::new(new, dialect),
            old_of_new,
            old_attr_of_new,
            matching,
            old_ends,
            new_ends: fk_ends_all(new),
            old_fks_between,
        }
    }

    fn q(&self, name: &str) -> String {
        quote_ident(self.dialect, name)
    }

    /// The new entity index of old entity `oi`.
    fn new_of_old(&self, oi: usize) -> Option<usize> {
        self.matching
            .entities
            .get(oi)
            .copied()
            .flatten()
            .map(|m| m.index)
    }

    /// The new attribute name of old attribute `name` of old entity `oi`.
    fn new_attr_name(&self, oi: usize, name: &str) -> Option<&'a str> {
        let old_entity = self.old.entities.get(oi)?;
        let oa = old_entity
            .attributes
            .iter()
            .position(|a| a.name.eq_ignore_ascii_case(name))?;
        let m = self
            .matching
            .attributes
            .get(oi)?
            .get(oa)
            .copied()
            .flatten()?;
        let ni = self.new_of_old(oi)?;
        Some(
            self.new
                .entities
                .get(ni)?
                .attributes
                .get(m.index)?
                .name
                .as_str(),
        )
    }

    /// Old column names of entity `oi` in the new model's names, lower-cased; `None` when one
    /// of them did not survive.
    fn mapped(&self, oi: usize, names: &[String]) -> Option<Vec<String>> {
        names
            .iter()
            .map(|n| self.new_attr_name(oi, n).map(str::to_ascii_lowercase))
            .collect()
    }

    /// The pairs (old attribute, new attribute) of new entity `ni`.
    fn attr_pairs(&self, ni: usize) -> Vec<(&'a Attribute, &'a Attribute)> {
        let (Some(oi), Some(new_entity)) = (self.old_of_new[ni], self.new.entities.get(ni)) else {
            return Vec::new();
        };
        let old_entity = &self.old.entities[oi];
        new_entity
            .attributes
            .iter()
            .enumerate()
            .filter_map(|(na, attr)| {
                let oa = self.old_attr_of_new[ni][na]?;
                Some((old_entity.attributes.get(oa)?, attr))
            })
            .collect()
    }

    /// Old attributes of old entity `oi` that the new model does not have.
    fn dropped_attrs(&self, oi: usize) -> Vec<&'a Attribute> {
        let entity = &self.old.entities[oi];
        entity
            .attributes
            .iter()
            .enumerate()
            .filter(|(oa, _)| {
                self.matching
                    .attributes
                    .get(oi)
                    .and_then(|v| v.get(*oa))
                    .copied()
                    .flatten()
                    .is_none()
            })
            .map(|(_, a)| a)
            .collect()
    }

    fn pk_kept(&self, ni: usize) -> bool {
        let Some(oi) = self.old_of_new[ni] else {
            return false;
        };
        self.mapped(oi, &self.old.entities[oi].primary_key)
            == Some(lower(&self.new.entities[ni].primary_key))
    }

    /// Whether unique constraint `columns` (old names) of old entity `oi` is in the new model.
    fn old_unique_kept(&self, oi: usize, columns: &[String]) -> bool {
        let Some(ni) = self.new_of_old(oi) else {
            return false;
        };
        let Some(mapped) = self.mapped(oi, columns) else {
            return false;
        };
        self.new.entities[ni]
            .unique
            .iter()
            .any(|u| lower(u) == mapped)
    }

    fn new_unique_kept(&self, ni: usize, columns: &[String]) -> bool {
        let Some(oi) = self.old_of_new[ni] else {
            return false;
        };
        let want = lower(columns);
        self.old.entities[oi]
            .unique
            .iter()
            .any(|u| self.mapped(oi, u).as_ref() == Some(&want))
    }

    /// Whether index `ix` of old entity `oi` is in the new model, same name and definition.
    fn old_index_kept(&self, oi: usize, ix: usize) -> bool {
        self.index_pair(oi, ix).is_some()
    }

    /// The new index that index `ix` of old entity `oi` is, if any. In MySQL an index over a
    /// column whose written type changes is not kept: its key parts depend on the type (a
    /// `text` column is indexed by a prefix, a `varchar` whole), so `MODIFY` could not keep it.
    fn index_pair(&self, oi: usize, ix: usize) -> Option<usize> {
        let ni = self.new_of_old(oi)?;
        let old_index = self.old.entities[oi].indexes.get(ix)?;
        let mapped = self.mapped(oi, &old_index.attributes)?;
        self.new.entities[ni].indexes.iter().position(|n| {
            n.name.eq_ignore_ascii_case(&old_index.name)
                && n.unique == old_index.unique
                && lower(&n.attributes) == mapped
                && !(self.dialect == SqlDialect::Mysql
                    && n.attributes.iter().any(|a| self.rewritten(ni, a)))
        })
    }

    fn new_index_kept(&self, ni: usize, index_name: &str) -> bool {
        let Some(oi) = self.old_of_new[ni] else {
            return false;
        };
        (0..self.old.entities[oi].indexes.len()).any(|ix| {
            self.index_pair(oi, ix).is_some_and(|n| {
                self.new.entities[ni].indexes[n]
                    .name
                    .eq_ignore_ascii_case(index_name)
            })
        })
    }

    /// Whether the type of a paired attribute changes.
    fn retyped(&self, ni: usize, new_attr: &str) -> bool {
        self.attr_pairs(ni)
            .iter()
            .any(|(o, n)| n.name.eq_ignore_ascii_case(new_attr) && o.data_type != n.data_type)
    }

    /// Whether the column type written for a paired attribute changes: its logical type, or
    /// the type the export gives it for the keys it is in (MySQL sizes `text` in a key as a
    /// `varchar` whose length depends on every key over it).
    fn rewritten(&self, ni: usize, new_attr: &str) -> bool {
        let (Some(oi), Some(new_entity)) = (self.old_of_new[ni], self.new.entities.get(ni)) else {
            return false;
        };
        let old_entity = &self.old.entities[oi];
        self.attr_pairs(ni).iter().any(|(o, n)| {
            n.name.eq_ignore_ascii_case(new_attr)
                && (o.data_type != n.data_type
                    || self.old_names.column_type_of(self.dialect, old_entity, o)
                        != self.new_names.column_type_of(self.dialect, new_entity, n))
        })
    }

    /// The old relationship that new relationship `ri` keeps, if any: same ends, columns,
    /// on-delete and constraint name under the pairing, and (PostgreSQL) nothing under it
    /// changes: no column type, and the referenced table keeps its keys.
    fn kept_fk(&self, ri: usize) -> Option<usize> {
        let rel = self.new.relationships.get(ri)?;
        let (nf, nt) = self.new_ends.get(ri).copied().flatten()?;
        let (of, ot) = (self.old_of_new[nf]?, self.old_of_new[nt]?);
        let found = self
            .old_fks_between
            .get(&(of, ot))?
            .iter()
            .copied()
            .find(|&oi| {
                let o = &self.old.relationships[oi];
                o.on_delete == rel.on_delete
                    && self
                        .old_names
                        .fk(oi)
                        .eq_ignore_ascii_case(self.new_names.fk(ri))
                    && self.mapped(of, &o.from_attributes) == Some(lower(&rel.from_attributes))
                    && self.mapped(ot, &o.to_attributes) == Some(lower(&rel.to_attributes))
            })?;
        if self.dialect != SqlDialect::Sqlite {
            let mut disturbed = rel.from_attributes.iter().any(|a| self.retyped(nf, a))
                || rel.to_attributes.iter().any(|a| self.retyped(nt, a))
                || !self.pk_kept(nt)
                || self.old.entities[ot]
                    .unique
                    .iter()
                    .any(|u| !self.old_unique_kept(ot, u));
            if self.dialect == SqlDialect::Mysql {
                // InnoDB backs a foreign key with any index that starts with its columns and
                // refuses to drop that index, or to rename or change the key's columns, while
                // the foreign key exists: take it down whenever its table's keys move.
                let renamed = |e: usize, attrs: &[String]| {
                    self.attr_pairs(e).iter().any(|(o, n)| {
                        o.name != n.name && attrs.iter().any(|a| a.eq_ignore_ascii_case(&n.name))
                    })
                };
                // Nor does it let `MODIFY` change a column of the key, even to a longer
                // `varchar`.
                disturbed = disturbed
                    || rel.from_attributes.iter().any(|a| self.rewritten(nf, a))
                    || rel.to_attributes.iter().any(|a| self.rewritten(nt, a))
                    || renamed(nf, &rel.from_attributes)
                    || renamed(nt, &rel.to_attributes)
                    || !self.pk_kept(nf)
                    || (0..self.old.entities[of].indexes.len())
                        .any(|ix| !self.old_index_kept(of, ix))
                    || self.old.entities[of]
                        .unique
                        .iter()
                        .any(|u| !self.old_unique_kept(of, u));
            }
            if disturbed {
                return None;
            }
        }
        Some(found)
    }

    /// Old relationships (as foreign keys) that no new relationship keeps; `kept` is
    /// [`Plan::kept_fk`] of every new relationship.
    fn dropped_fks(&self, kept: &[Option<usize>]) -> Vec<usize> {
        let kept: HashSet<usize> = kept.iter().copied().flatten().collect();
        (0..self.old.relationships.len())
            .filter(|oi| !kept.contains(oi) && self.old_ends[*oi].is_some())
            .collect()
    }

    /// New relationships whose foreign key must be created; `kept` as for
    /// [`Plan::dropped_fks`].
    fn added_fks(&self, kept: &[Option<usize>]) -> Vec<usize> {
        (0..self.new.relationships.len())
            .filter(|&ri| self.new_ends[ri].is_some() && kept[ri].is_none())
            .collect()
    }

    fn dropped_entities(&self) -> Vec<usize> {
        (0..self.old.entities.len())
            .filter(|&oi| self.new_of_old(oi).is_none())
            .collect()
    }

    /// Renamed entities as (old index, new index).
    fn renamed_entities(&self) -> Vec<(usize, usize)> {
        (0..self.new.entities.len())
            .filter_map(|ni| {
                let oi = self.old_of_new[ni]?;
                (self.old.entities[oi].name != self.new.entities[ni].name).then_some((oi, ni))
            })
            .collect()
    }
}

fn lower(names: &[String]) -> Vec<String> {
    names.iter().map(|n| n.to_ascii_lowercase()).collect()
}

/// Whether a column is effectively `NOT NULL`: key columns always are.
fn not_null(entity: &Entity, attr: &Attribute) -> bool {
    !attr.nullable || entity.is_key(&attr.name)
}

/// Renames `from → to` (pairs of current and wanted names) as statements made by `stmt`,
/// through temporary names when a wanted name is still taken by another of the current names
/// (a swap), so that no step collides.
fn rename_all(
    pairs: &[(String, String)],
    taken: &HashSet<String>,
    stmt: &mut dyn FnMut(&str, &str) -> String,
) -> String {
    let mut out = String::new();
    let pairs: Vec<&(String, String)> = pairs.iter().filter(|(f, t)| f != t).collect();
    let clash = pairs.iter().any(|(from, to)| {
        !from.eq_ignore_ascii_case(to) && taken.contains(&to.to_ascii_lowercase())
    });
    if clash {
        for (i, (from, _)) in pairs.iter().enumerate() {
            out.push_str(&stmt(from, &format!("_dm_tmp_{i}")));
        }
        for (i, (_, to)) in pairs.iter().enumerate() {
            out.push_str(&stmt(&format!("_dm_tmp_{i}"), to));
        }
    } else {
        for (from, to) in pairs {
            out.push_str(&stmt(from, to));
        }
    }
    out
}

/// Where the dialects' SQL differs. The provided methods are what PostgreSQL writes, and what
/// the others write too unless they say otherwise; a method that returns nothing for a dialect
/// says why.
trait Hooks {
    /// The script's first lines.
    fn header(&self) -> &'static str;
    /// The script's last lines.
    fn footer(&self) -> &'static str;
    /// The comment over `step`'s statements.
    fn title(&self, step: Step) -> &'static str {
        step.title()
    }
    /// Refuses a new model that cannot exist in the dialect at all.
    fn check(&self, _new: &Model) -> Result<(), MigrateError> {
        Ok(())
    }
    /// Whether the dialect rebuilds a table for what `ALTER TABLE` cannot do, and keeps foreign
    /// keys inside the table definition (SQLite), instead of altering everything in place.
    fn rebuilds_tables(&self) -> bool {
        false
    }
    /// Drops foreign key `name` (quoted here) of `table`.
    fn drop_foreign_key(&self, plan: &Plan, table: &str, name: &str) -> String {
        format!(
            "ALTER TABLE {} DROP CONSTRAINT {};\n",
            plan.q(table),
            plan.q(name)
        )
    }
    /// Drops index `index` of `table`.
    fn drop_index(&self, plan: &Plan, _table: &str, index: &str) -> String {
        format!("DROP INDEX {};\n", plan.q(index))
    }
    /// Drops the unique constraint `name` of `table`.
    fn drop_unique(&self, plan: &Plan, table: &str, name: &str) -> String {
        format!(
            "ALTER TABLE {} DROP CONSTRAINT {};\n",
            plan.q(table),
            plan.q(name)
        )
    }
    /// Drops the primary key of `table`.
    fn drop_primary_key(&self, plan: &Plan, table: &str) -> String {
        format!(
            "ALTER TABLE {} DROP CONSTRAINT {};\n",
            plan.q(table),
            plan.q(&pk_name(table))
        )
    }
    fn rename_table(&self, plan: &Plan, from: &str, to: &str) -> String {
        format!("ALTER TABLE {} RENAME TO {};\n", plan.q(from), plan.q(to))
    }
    /// Renames the primary key constraint of `table` (quoted) from `from` to `to`.
    fn rename_primary_key(&self, plan: &Plan, table: &str, from: &str, to: &str) -> String {
        format!(
            "ALTER TABLE {table} RENAME CONSTRAINT {} TO {};\n",
            plan.q(from),
            plan.q(to)
        )
    }
    /// Renames a unique constraint of `table` (quoted) from `from` to `to`.
    fn rename_unique(&self, plan: &Plan, table: &str, from: &str, to: &str) -> String {
        self.rename_primary_key(plan, table, from, to)
    }
    /// SQLite's [`Step::RebuildTables`]; nothing elsewhere.
    fn rebuild_tables(&self, _m: &Migration) -> String {
        String::new()
    }
    /// Creates the table of new entity `ni`, which the old model does not have.
    fn create_table(&self, m: &Migration, ni: usize) -> String {
        let plan = &m.plan;
        create_table(plan.new, ni, plan.dialect, &plan.new_names, &[], None)
    }
    /// Changes column `o` of `old_entity` into column `n` of `entity` (quoted `table`), which
    /// is `o` renamed where it was renamed.
    fn change_column(
        &self,
        plan: &Plan,
        table: &str,
        old_entity: &Entity,
        entity: &Entity,
        o: &Attribute,
        n: &Attribute,
    ) -> String;
    /// The table's description, where the dialect changes it with the columns; nothing in
    /// PostgreSQL, which changes it in [`Step::Descriptions`].
    fn change_table_description(
        &self,
        _plan: &Plan,
        _table: &str,
        _old_entity: &Entity,
        _entity: &Entity,
    ) -> String {
        String::new()
    }
    /// The descriptions of new entity `ni` and its columns, where they changed; nothing where
    /// the dialect changes them with the table and its columns.
    fn redescribe(&self, _plan: &Plan, _ni: usize, _oi: usize) -> String {
        String::new()
    }
}

/// Drops old entity `entity`'s table and its enum types (PostgreSQL's only).
fn drop_table(plan: &Plan, entity: &Entity) -> String {
    let mut out = format!("DROP TABLE {};\n", plan.q(&entity.name));
    for attr in &entity.attributes {
        if let Some(t) = plan.old_names.enum_type(&entity.name, &attr.name) {
            let _ = writeln!(out, "DROP TYPE {};", plan.q(t));
        }
    }
    out
}

fn drop_foreign_keys(m: &Migration) -> String {
    let (plan, old) = (&m.plan, m.plan.old);
    let mut body = String::new();
    for &oi in &m.dropped_fks {
        let Some((from, _)) = plan.old_ends[oi] else {
            continue;
        };
        if m.dropped.contains(&from) {
            continue;
        }
        body.push_str(&m.hooks.drop_foreign_key(
            plan,
            &old.entities[from].name,
            plan.old_names.fk(oi),
        ));
    }
    body
}

fn drop_indexes_and_constraints(m: &Migration) -> String {
    let (plan, old) = (&m.plan, m.plan.old);
    let mut body = String::new();
    for (oi, entity) in old.entities.iter().enumerate() {
        if m.dropped.contains(&oi) {
            // SQLite, its foreign keys off, drops a table before it alters any other.
            if m.hooks.rebuilds_tables() {
                body.push_str(&drop_table(plan, entity));
            }
            continue;
        }
        for (ix, index) in entity.indexes.iter().enumerate() {
            if !plan.old_index_kept(oi, ix) {
                body.push_str(&m.hooks.drop_index(
                    plan,
                    &entity.name,
                    plan.old_names.index_name(&entity.name, &index.name),
                ));
            }
        }
        for u in &entity.unique {
            if !plan.old_unique_kept(oi, u) {
                let name = plan.old_names.unique_name(entity, u);
                body.push_str(&m.hooks.drop_unique(plan, &entity.name, &name));
            }
        }
        let ni = plan.new_of_old(oi);
        if !entity.primary_key.is_empty() && !ni.is_some_and(|ni| plan.pk_kept(ni)) {
            body.push_str(&m.hooks.drop_primary_key(plan, &entity.name));
        }
    }
    body
}

fn drop_tables_and_columns(m: &Migration) -> String {
    let (plan, old) = (&m.plan, m.plan.old);
    let mut body = String::new();
    if !m.hooks.rebuilds_tables() {
        for &oi in &m.dropped_entities {
            body.push_str(&drop_table(plan, &old.entities[oi]));
        }
    }
    for oi in m.tables_dropping_columns() {
        let entity = &old.entities[oi];
        for attr in plan.dropped_attrs(oi) {
            let _ = writeln!(
                body,
                "ALTER TABLE {} DROP COLUMN {};",
                plan.q(&entity.name),
                plan.q(&attr.name)
            );
            if let Some(t) = plan.old_names.enum_type(&entity.name, &attr.name) {
                let _ = writeln!(body, "DROP TYPE {};", plan.q(t));
            }
        }
    }
    body
}

/// Renames tables, then each kept table's columns, then the names derived from them (key and
/// constraint names, PostgreSQL's enum types). SQLite rewrites the references to a renamed table
/// or column in every other table's foreign keys, which is why it renames even tables it is
/// about to rebuild.
fn renames(m: &Migration) -> String {
    let plan = &m.plan;
    let (old, new) = (plan.old, plan.new);
    let mut body = String::new();
    let table_pairs: Vec<(String, String)> = plan
        .renamed_entities()
        .into_iter()
        .map(|(oi, ni)| (old.entities[oi].name.clone(), new.entities[ni].name.clone()))
        .collect();
    let taken: HashSet<String> = old
        .entities
        .iter()
        .enumerate()
        .filter(|(oi, _)| !m.dropped.contains(oi))
        .map(|(_, e)| e.name.to_ascii_lowercase())
        .collect();
    body.push_str(&rename_all(&table_pairs, &taken, &mut |from, to| {
        m.hooks.rename_table(plan, from, to)
    }));
    for (ni, entity) in new.entities.iter().enumerate() {
        let Some(oi) = plan.old_of_new[ni] else {
            continue;
        };
        let table = plan.q(&entity.name);
        let pairs: Vec<(String, String)> = plan
            .attr_pairs(ni)
            .iter()
            .map(|(o, n)| (o.name.clone(), n.name.clone()))
            .collect();
        let dropped: HashSet<String> = plan
            .dropped_attrs(oi)
            .iter()
            .map(|a| a.name.to_ascii_lowercase())
            .collect();
        let taken: HashSet<String> = old.entities[oi]
            .attributes
            .iter()
            .map(|a| a.name.to_ascii_lowercase())
            .filter(|n| !dropped.contains(n))
            .collect();
        if m.rebuilt[ni] {
            // A column the rebuild leaves behind still exists: move it out of the way of a
            // column renamed to its name.
            let wanted: HashSet<String> =
                pairs.iter().map(|(_, t)| t.to_ascii_lowercase()).collect();
            for (i, attr) in plan.dropped_attrs(oi).iter().enumerate() {
                if wanted.contains(&attr.name.to_ascii_lowercase()) {
                    let _ = writeln!(
                        body,
                        "ALTER TABLE {table} RENAME COLUMN {} TO {};",
                        plan.q(&attr.name),
                        plan.q(&format!("_dm_old_{i}"))
                    );
                }
            }
        }
        body.push_str(&rename_all(&pairs, &taken, &mut |from, to| {
            format!(
                "ALTER TABLE {table} RENAME COLUMN {} TO {};\n",
                plan.q(from),
                plan.q(to)
            )
        }));
        body.push_str(&derived_renames(m, ni, oi, &table));
    }
    body
}

/// The names derived from a renamed table or column that follow it: the primary key's, the
/// unique constraints' and PostgreSQL's enum types.
fn derived_renames(m: &Migration, ni: usize, oi: usize, table: &str) -> String {
    let plan = &m.plan;
    let (old_entity, entity) = (&plan.old.entities[oi], &plan.new.entities[ni]);
    let mut body = String::new();
    if plan.pk_kept(ni) && !entity.primary_key.is_empty() {
        let (from, to) = (pk_name(&old_entity.name), pk_name(&entity.name));
        if from != to {
            body.push_str(&m.hooks.rename_primary_key(plan, table, &from, &to));
        }
    }
    for u in &old_entity.unique {
        if plan.old_unique_kept(oi, u) {
            let new_cols: Vec<String> = u
                .iter()
                .filter_map(|c| plan.new_attr_name(oi, c).map(str::to_string))
                .collect();
            let (from, to) = (
                plan.old_names.unique_name(old_entity, u),
                plan.new_names.unique_name(entity, &new_cols),
            );
            if from != to {
                body.push_str(&m.hooks.rename_unique(plan, table, &from, &to));
            }
        }
    }
    for (o, n) in plan.attr_pairs(ni) {
        if o.data_type != n.data_type {
            continue;
        }
        if let (Some(ot), Some(nt)) = (
            plan.old_names.enum_type(&old_entity.name, &o.name),
            plan.new_names.enum_type(&entity.name, &n.name),
        ) {
            if ot != nt {
                let _ = writeln!(body, "ALTER TYPE {} RENAME TO {};", plan.q(ot), plan.q(nt));
            }
        }
    }
    body
}

fn create_tables(m: &Migration) -> String {
    let plan = &m.plan;
    let mut body = String::new();
    for ni in table_order(plan.new) {
        if plan.old_of_new[ni].is_none() {
            body.push_str(&m.hooks.create_table(m, ni));
        }
    }
    body
}

/// Added columns of kept tables (with their PostgreSQL enum types), then each changed column.
/// SQLite altered or rebuilt its tables before it created the new ones.
fn change_columns(m: &Migration) -> String {
    let plan = &m.plan;
    let mut body = String::new();
    if m.hooks.rebuilds_tables() {
        return body;
    }
    for (ni, entity) in plan.new.entities.iter().enumerate() {
        let Some(oi) = plan.old_of_new[ni] else {
            continue;
        };
        let old_entity = &plan.old.entities[oi];
        let table = plan.q(&entity.name);
        for (na, attr) in entity.attributes.iter().enumerate() {
            if plan.old_attr_of_new[ni][na].is_some() {
                continue;
            }
            if let (LogicalType::Enum(values), Some(t)) = (
                &attr.data_type,
                plan.new_names.enum_type(&entity.name, &attr.name),
            ) {
                body.push_str(&create_enum_type(t, values));
            }
            let _ = writeln!(
                body,
                "ALTER TABLE {table} ADD COLUMN {};",
                column_definition(plan.dialect, &plan.new_names, entity, attr)
            );
        }
        for (o, n) in plan.attr_pairs(ni) {
            body.push_str(
                &m.hooks
                    .change_column(plan, &table, old_entity, entity, o, n),
            );
        }
        body.push_str(
            &m.hooks
                .change_table_description(plan, &table, old_entity, entity),
        );
    }
    body
}

/// Primary keys and unique constraints of kept tables, then indexes, that are new or changed.
/// SQLite created the indexes of new and rebuilt tables with them, and rebuilt every table
/// whose keys changed.
fn add_keys_and_indexes(m: &Migration) -> String {
    let plan = &m.plan;
    let dialect = plan.dialect;
    let mut body = String::new();
    for (ni, entity) in plan.new.entities.iter().enumerate() {
        let matched = plan.old_of_new[ni].is_some();
        if m.hooks.rebuilds_tables() && (!matched || m.rebuilt[ni]) {
            continue;
        }
        let table = plan.q(&entity.name);
        if matched {
            if !entity.primary_key.is_empty() && !plan.pk_kept(ni) {
                let _ = writeln!(
                    body,
                    "ALTER TABLE {table} ADD {};",
                    primary_key_clause(dialect, &plan.new_names, entity)
                );
            }
            for u in &entity.unique {
                if !plan.new_unique_kept(ni, u) {
                    let _ = writeln!(
                        body,
                        "ALTER TABLE {table} ADD {};",
                        unique_clause(dialect, &plan.new_names, entity, u)
                    );
                }
            }
        }
        for index in &entity.indexes {
            if !matched || !plan.new_index_kept(ni, &index.name) {
                body.push_str(&create_index(dialect, &plan.new_names, entity, index, None));
            }
        }
    }
    body
}

/// Foreign keys of new relationships; SQLite wrote them inside their tables.
fn add_foreign_keys(m: &Migration) -> String {
    let plan = &m.plan;
    let mut body = String::new();
    if m.hooks.rebuilds_tables() {
        return body;
    }
    for &ri in &m.added_fks {
        body.push_str(&add_foreign_key(
            plan.new,
            ri,
            plan.dialect,
            &plan.new_names,
        ));
    }
    body
}

fn descriptions(m: &Migration) -> String {
    let plan = &m.plan;
    let mut body = String::new();
    for ni in 0..plan.new.entities.len() {
        if let Some(oi) = plan.old_of_new[ni] {
            body.push_str(&m.hooks.redescribe(plan, ni, oi));
        }
    }
    body
}

/// A PostgreSQL cast of `col` from type `from` to `to` (written `t`). PostgreSQL casts a
/// boolean only to and from `integer`, so a boolean and another number meet through it.
fn postgres_cast(col: &str, from: &LogicalType, to: &LogicalType, t: &str) -> String {
    use LogicalType as T;
    let number = |t: &LogicalType| matches!(t, T::BigInt | T::Decimal { .. } | T::Float);
    match (from, to) {
        (T::Boolean, other) | (other, T::Boolean) if number(other) => {
            format!("{col}::integer::{t}")
        }
        _ => format!("{col}::{t}"),
    }
}

/// PostgreSQL: the whole migration in one transaction; columns changed one property at a time,
/// types cast with `USING`; descriptions with `COMMENT ON`.
struct Postgres;

impl Hooks for Postgres {
    fn header(&self) -> &'static str {
        "-- PostgreSQL migration written by Data Modeller\nBEGIN;\n"
    }

    fn footer(&self) -> &'static str {
        "\nCOMMIT;\n"
    }

    fn change_column(
        &self,
        plan: &Plan,
        table: &str,
        old_entity: &Entity,
        entity: &Entity,
        o: &Attribute,
        n: &Attribute,
    ) -> String {
        let dialect = plan.dialect;
        let mut body = String::new();
        let col = plan.q(&n.name);
        let old_default = o
            .default
            .as_deref()
            .and_then(|d| default_sql(dialect, d, &o.data_type));
        let new_default = n
            .default
            .as_deref()
            .and_then(|d| default_sql(dialect, d, &n.data_type));
        let retyped = o.data_type != n.data_type;
        if retyped {
            if old_default.is_some() {
                let _ = writeln!(body, "ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT;");
            }
            let old_enum = plan.old_names.enum_type(&old_entity.name, &o.name);
            let new_enum = plan.new_names.enum_type(&entity.name, &n.name);
            if let Some(ot) = old_enum {
                let _ = writeln!(
                    body,
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE text USING {col}::text;\nDROP TYPE {};",
                    plan.q(ot)
                );
            }
            match (&n.data_type, new_enum) {
                (LogicalType::Enum(values), Some(nt)) => {
                    body.push_str(&create_enum_type(nt, values));
                    let _ = writeln!(
                        body,
                        "ALTER TABLE {table} ALTER COLUMN {col} TYPE {t} USING {col}::text::{t};",
                        t = plan.q(nt)
                    );
                }
                _ => {
                    let t = column_type(dialect, &n.data_type);
                    let using = postgres_cast(&col, &o.data_type, &n.data_type, &t);
                    let _ = writeln!(
                        body,
                        "ALTER TABLE {table} ALTER COLUMN {col} TYPE {t} USING {using};"
                    );
                }
            }
        }
        if retyped || old_default != new_default {
            match &new_default {
                Some(d) => {
                    let _ = writeln!(
                        body,
                        "ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT {d};"
                    );
                }
                None if !retyped => {
                    let _ = writeln!(body, "ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT;");
                }
                None => {}
            }
        }
        let (was, is) = (not_null(old_entity, o), not_null(entity, n));
        if !was && is {
            if new_default.is_some() {
                let _ = writeln!(
                    body,
                    "UPDATE {table} SET {col} = DEFAULT WHERE {col} IS NULL;"
                );
            }
            let _ = writeln!(body, "ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;");
        } else if was && !is {
            let _ = writeln!(
                body,
                "ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL;"
            );
        }
        body
    }

    fn redescribe(&self, plan: &Plan, ni: usize, oi: usize) -> String {
        let (old, entity) = (&plan.old.entities[oi], &plan.new.entities[ni]);
        let comment = |text: &str| {
            if text.is_empty() {
                "NULL".to_string()
            } else {
                string_literal(plan.dialect, text)
            }
        };
        let table = plan.q(&entity.name);
        let mut body = String::new();
        if old.description != entity.description {
            let _ = writeln!(
                body,
                "COMMENT ON TABLE {table} IS {};",
                comment(&entity.description)
            );
        }
        for (na, attr) in entity.attributes.iter().enumerate() {
            let before = plan.old_attr_of_new[ni][na]
                .and_then(|oa| old.attributes.get(oa))
                .map(|a| a.description.as_str())
                .unwrap_or("");
            if before != attr.description {
                let _ = writeln!(
                    body,
                    "COMMENT ON COLUMN {table}.{} IS {};",
                    plan.q(&attr.name),
                    comment(&attr.description)
                );
            }
        }
        body
    }
}

/// MySQL and MariaDB: every DDL statement commits on its own; indexes, unique constraints and
/// the primary key are dropped as indexes; a column is changed by restating it whole
/// (`MODIFY COLUMN`, with its comment), a table's comment with `ALTER TABLE ... COMMENT`.
struct Mysql;

impl Hooks for Mysql {
    fn header(&self) -> &'static str {
        "-- MySQL / MariaDB migration written by Data Modeller\n\
         -- MySQL commits each DDL statement: a failure leaves the steps before it applied.\n"
    }

    fn footer(&self) -> &'static str {
        ""
    }

    /// Drops the foreign key and the index InnoDB may have made for it.
    fn drop_foreign_key(&self, plan: &Plan, table: &str, name: &str) -> String {
        let (table, name) = (plan.q(table), plan.q(name));
        format!(
            "ALTER TABLE {table} DROP FOREIGN KEY {name};\n\
             ALTER TABLE {table} DROP INDEX IF EXISTS {name};\n"
        )
    }

    fn drop_index(&self, plan: &Plan, table: &str, index: &str) -> String {
        format!(
            "ALTER TABLE {} DROP INDEX {};\n",
            plan.q(table),
            plan.q(index)
        )
    }

    fn drop_unique(&self, plan: &Plan, table: &str, name: &str) -> String {
        self.drop_index(plan, table, name)
    }

    fn drop_primary_key(&self, plan: &Plan, table: &str) -> String {
        format!("ALTER TABLE {} DROP PRIMARY KEY;\n", plan.q(table))
    }

    fn rename_table(&self, plan: &Plan, from: &str, to: &str) -> String {
        format!("RENAME TABLE {} TO {};\n", plan.q(from), plan.q(to))
    }

    /// Nothing: MySQL's primary key is always named `PRIMARY`.
    fn rename_primary_key(&self, _plan: &Plan, _table: &str, _from: &str, _to: &str) -> String {
        String::new()
    }

    fn rename_unique(&self, plan: &Plan, table: &str, from: &str, to: &str) -> String {
        format!(
            "ALTER TABLE {table} RENAME INDEX {} TO {};\n",
            plan.q(from),
            plan.q(to)
        )
    }

    /// `MODIFY` restates the whole column (type, nullability, default, comment); a column
    /// that becomes `NOT NULL` with a default is first given the default where it is null.
    fn change_column(
        &self,
        plan: &Plan,
        table: &str,
        old_entity: &Entity,
        entity: &Entity,
        o: &Attribute,
        n: &Attribute,
    ) -> String {
        let dialect = plan.dialect;
        let mut body = String::new();
        let mut renamed = o.clone();
        renamed.name = n.name.clone();
        let before = column_definition(dialect, &plan.old_names, old_entity, &renamed);
        let after = column_definition(dialect, &plan.new_names, entity, n);
        if before == after {
            return body;
        }
        let fill = !not_null(old_entity, o) && not_null(entity, n) && n.default.is_some();
        if fill {
            let mut nullable = n.clone();
            nullable.nullable = true;
            let mut loose = entity.clone();
            loose.primary_key.clear();
            let _ = writeln!(
                body,
                "ALTER TABLE {table} MODIFY COLUMN {};\nUPDATE {table} SET {col} = DEFAULT WHERE {col} IS NULL;",
                column_definition(dialect, &plan.new_names, &loose, &nullable),
                col = plan.q(&n.name)
            );
        }
        let _ = writeln!(body, "ALTER TABLE {table} MODIFY COLUMN {after};");
        body
    }

    fn change_table_description(
        &self,
        plan: &Plan,
        table: &str,
        old_entity: &Entity,
        entity: &Entity,
    ) -> String {
        if old_entity.description == entity.description {
            return String::new();
        }
        format!(
            "ALTER TABLE {table} COMMENT = {};\n",
            string_literal(plan.dialect, &entity.description)
        )
    }
}

/// SQLite: foreign keys off around one transaction; what `ALTER TABLE` cannot do rebuilds the
/// table ([`needs_rebuild`]), foreign keys are written inside the tables, and every foreign key
/// is checked before the commit.
struct Sqlite;

impl Hooks for Sqlite {
    fn header(&self) -> &'static str {
        "-- SQLite migration written by Data Modeller\n\
         PRAGMA foreign_keys = OFF;\nBEGIN;\n"
    }

    /// A violated foreign key fails the CHECK, which stops the script before COMMIT.
    fn footer(&self) -> &'static str {
        "\n-- every foreign key must still hold\n\
         CREATE TEMP TABLE _dm_fk_check (violations integer CONSTRAINT foreign_keys_hold CHECK (violations = 0));\n\
         INSERT INTO _dm_fk_check SELECT count(*) FROM pragma_foreign_key_check;\n\
         DROP TABLE _dm_fk_check;\n\
         COMMIT;\nPRAGMA foreign_keys = ON;\n"
    }

    fn title(&self, step: Step) -> &'static str {
        match step {
            Step::DropIndexesAndConstraints => "drop indexes and tables",
            Step::DropTablesAndColumns => "drop columns",
            Step::AddKeysAndIndexes => "create indexes",
            _ => step.title(),
        }
    }

    fn check(&self, new: &Model) -> Result<(), MigrateError> {
        match new.entities.iter().find(|e| e.attributes.is_empty()) {
            Some(empty) => Err(MigrateError(format!(
                "entity `{}` has no attributes and a sqlite table needs at least one column: add one",
                empty.name
            ))),
            None => Ok(()),
        }
    }

    fn rebuilds_tables(&self) -> bool {
        true
    }

    /// Nothing: a foreign key is part of its table, which is rebuilt without it.
    fn drop_foreign_key(&self, _plan: &Plan, _table: &str, _name: &str) -> String {
        String::new()
    }

    /// Nothing: a unique constraint is part of its table, which is rebuilt without it.
    fn drop_unique(&self, _plan: &Plan, _table: &str, _name: &str) -> String {
        String::new()
    }

    /// Nothing: the primary key is part of its table, which is rebuilt with the new one.
    fn drop_primary_key(&self, _plan: &Plan, _table: &str) -> String {
        String::new()
    }

    /// Nothing: SQLite's key and constraint names follow their table.
    fn rename_primary_key(&self, _plan: &Plan, _table: &str, _from: &str, _to: &str) -> String {
        String::new()
    }

    fn rename_unique(&self, _plan: &Plan, _table: &str, _from: &str, _to: &str) -> String {
        String::new()
    }

    /// Tables altered in place gain their new columns; the others are rebuilt: the new table
    /// under a temporary name, the rows copied (a column that becomes `NOT NULL` takes its
    /// default where it was null), the old table dropped, the new one renamed, its indexes
    /// created.
    fn rebuild_tables(&self, m: &Migration) -> String {
        let plan = &m.plan;
        let (old, new, dialect) = (plan.old, plan.new, plan.dialect);
        let mut body = String::new();
        for (ni, entity) in new.entities.iter().enumerate() {
            let Some(oi) = plan.old_of_new[ni] else {
                continue;
            };
            let table = plan.q(&entity.name);
            if !m.rebuilt[ni] {
                for (na, attr) in entity.attributes.iter().enumerate() {
                    if plan.old_attr_of_new[ni][na].is_none() {
                        let _ = writeln!(
                            body,
                            "ALTER TABLE {table} ADD COLUMN {};",
                            column_definition(dialect, &plan.new_names, entity, attr)
                        );
                    }
                }
                continue;
            }
            let temp = format!("_dm_new_{}", entity.name);
            body.push_str(&create_table(
                new,
                ni,
                dialect,
                &plan.new_names,
                m.inline_fks(ni),
                Some(&temp),
            ));
            let old_entity = &old.entities[oi];
            let mut columns = Vec::new();
            let mut values = Vec::new();
            for (o, n) in plan.attr_pairs(ni) {
                let col = plan.q(&n.name);
                let default = n
                    .default
                    .as_deref()
                    .and_then(|d| default_sql(dialect, d, &n.data_type));
                let value = match default {
                    Some(d) if not_null(entity, n) && !not_null(old_entity, o) => {
                        format!("coalesce({col}, {d})")
                    }
                    _ => col.clone(),
                };
                columns.push(col);
                values.push(value);
            }
            if !columns.is_empty() {
                let _ = writeln!(
                    body,
                    "INSERT INTO {} ({}) SELECT {} FROM {table};",
                    plan.q(&temp),
                    columns.join(", "),
                    values.join(", ")
                );
            }
            let _ = writeln!(body, "DROP TABLE {table};");
            let _ = writeln!(body, "ALTER TABLE {} RENAME TO {table};", plan.q(&temp));
            for index in &entity.indexes {
                body.push_str(&create_index(dialect, &plan.new_names, entity, index, None));
            }
        }
        body
    }

    /// The table with its foreign keys inline (SQLite does not check their targets here) and
    /// its indexes.
    fn create_table(&self, m: &Migration, ni: usize) -> String {
        let plan = &m.plan;
        let entity = &plan.new.entities[ni];
        let mut body = create_table(
            plan.new,
            ni,
            plan.dialect,
            &plan.new_names,
            m.inline_fks(ni),
            None,
        );
        for index in &entity.indexes {
            body.push_str(&create_index(
                plan.dialect,
                &plan.new_names,
                entity,
                index,
                None,
            ));
        }
        body
    }

    /// Nothing: a changed column rebuilds its table.
    fn change_column(
        &self,
        _plan: &Plan,
        _table: &str,
        _old_entity: &Entity,
        _entity: &Entity,
        _o: &Attribute,
        _n: &Attribute,
    ) -> String {
        String::new()
    }
}

/// Whether SQLite must rebuild new entity `ni`: anything `ALTER TABLE` cannot do in place.
/// `losing_fks` holds the old entities that lose a foreign key, `gaining_fks` the new entities
/// that gain one.
fn needs_rebuild(
    plan: &Plan,
    ni: usize,
    losing_fks: &HashSet<usize>,
    gaining_fks: &HashSet<usize>,
) -> bool {
    let dialect = SqlDialect::Sqlite;
    let (old, new) = (plan.old, plan.new);
    let Some(oi) = plan.old_of_new[ni] else {
        return false;
    };
    let (old_entity, entity) = (&old.entities[oi], &new.entities[ni]);
    if !plan.pk_kept(ni)
        || old_entity
            .unique
            .iter()
            .any(|u| !plan.old_unique_kept(oi, u))
        || entity.unique.iter().any(|u| !plan.new_unique_kept(ni, u))
    {
        return true;
    }
    if losing_fks.contains(&oi) || gaining_fks.contains(&ni) {
        return true;
    }
    for (o, n) in plan.attr_pairs(ni) {
        let mut renamed = o.clone();
        renamed.name = n.name.clone();
        if column_definition(dialect, &plan.old_names, old_entity, &renamed)
            != column_definition(dialect, &plan.new_names, entity, n)
            || not_null(old_entity, o) != not_null(entity, n)
        {
            return true;
        }
    }
    // ADD COLUMN takes no key and, for a NOT NULL column, only a constant default.
    for (na, attr) in entity.attributes.iter().enumerate() {
        if plan.old_attr_of_new[ni][na].is_some() {
            continue;
        }
        let default = attr
            .default
            .as_deref()
            .and_then(|d| default_sql(dialect, d, &attr.data_type));
        let constant = default.as_deref().is_some_and(|d| {
            !d.starts_with('(') && !d.to_ascii_uppercase().starts_with("CURRENT_") && d != "NULL"
        });
        if entity.is_key(&attr.name) || (!attr.nullable && !constant) {
            return true;
        }
    }
    // DROP COLUMN refuses a column that a key, a unique constraint or a foreign key names.
    let in_fk = |name: &str| {
        old.relationships
            .iter()
            .zip(&plan.old_ends)
            .any(|(rel, end)| {
                end.is_some_and(|(from, to)| {
                    (from == oi
                        && rel
                            .from_attributes
                            .iter()
                            .any(|a| a.eq_ignore_ascii_case(name)))
                        || (to == oi
                            && rel
                                .to_attributes
                                .iter()
                                .any(|a| a.eq_ignore_ascii_case(name)))
                })
            })
    };
    plan.dropped_attrs(oi).iter().any(|a| {
        old_entity.is_key(&a.name)
            || old_entity
                .unique
                .iter()
                .any(|u| u.iter().any(|c| c.eq_ignore_ascii_case(&a.name)))
            || in_fk(&a.name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    #[test]
    fn equal_models_change_nothing() {
        for dialect in [SqlDialect::Postgres, SqlDialect::Sqlite] {
            let sql = migration_sql(&sample(), &sample(), dialect).expect("migrates");
            let statements: Vec<&str> = sql
                .lines()
                .filter(|l| !l.starts_with("--") && !l.is_empty())
                .filter(|l| !l.contains("_dm_fk_check") && !l.starts_with("PRAGMA"))
                .collect();
            assert_eq!(statements, vec!["BEGIN;", "COMMIT;"], "{dialect}: {sql}");
        }
        let sql = migration_sql(&v2(), &v2(), SqlDialect::Mysql).expect("migrates");
        assert!(
            sql.lines().all(|l| l.starts_with("--") || l.is_empty()),
            "{sql}"
        );
    }

    fn model_of(json: &str) -> Model {
        serde_json::from_str(json).expect("the test model parses")
    }

    /// A mutated Synapse schema turned a boolean into a bigint: PostgreSQL has no cast from
    /// boolean to bigint ("cannot cast type boolean to bigint"), only to integer.
    #[test]
    fn regression_postgres_boolean_to_bigint_casts_through_integer() {
        let of = |t: &str| {
            model_of(&format!(
                r#"{{"entities":[{{"name":"t","attributes":[{{"name":"id","type":"integer"}},
                    {{"name":"sent","type":"{t}"}}],"primary_key":["id"]}}]}}"#
            ))
        };
        let sql =
            migration_sql(&of("boolean"), &of("bigint"), SqlDialect::Postgres).expect("migrates");
        assert!(
            sql.contains("ALTER COLUMN sent TYPE bigint USING sent::integer::bigint;"),
            "{sql}"
        );
        let sql =
            migration_sql(&of("bigint"), &of("boolean"), SqlDialect::Postgres).expect("migrates");
        assert!(
            sql.contains("ALTER COLUMN sent TYPE boolean USING sent::integer::boolean;"),
            "{sql}"
        );
        let sql =
            migration_sql(&of("integer"), &of("boolean"), SqlDialect::Postgres).expect("migrates");
        assert!(sql.contains("USING sent::boolean;"), "{sql}");
    }

    /// A mutated Synapse schema (the same logical types) gave `events.event_id` a new key
    /// length in MySQL (`varchar(384)` → `varchar(768)`), and an index over a `varchar` column
    /// that became `text`: MariaDB refuses to `MODIFY` a column a foreign key uses (ERROR
    /// 1833), and an index kept over a column turned `text` has no prefix (ERROR 1071). Both
    /// are taken down before the change and made again after it.
    #[test]
    fn regression_mysql_keys_over_a_column_whose_written_type_changes() {
        let of = |unique: &str| {
            model_of(&format!(
                r#"{{"entities":[
                    {{"name":"e","attributes":[{{"name":"id","type":"integer"}},
                        {{"name":"event_id","type":"text"}},{{"name":"room","type":"text"}}],
                      "primary_key":["id"],"unique":[{unique}],
                      "indexes":[{{"name":"e_event_stream","attributes":["event_id","id"]}}]}},
                    {{"name":"p","attributes":[{{"name":"id","type":"integer"}},
                        {{"name":"event_id","type":"text"}}],"primary_key":["id"]}}],
                  "relationships":[{{"from_entity":"p","from_attributes":["event_id"],
                    "to_entity":"e","to_attributes":["event_id"],"cardinality":"N:1"}}]}}"#
            ))
        };
        let (old, new) = (of(r#"["event_id","room"]"#), of(r#"["event_id"]"#));
        let sql = migration_sql(&old, &new, SqlDialect::Mysql).expect("migrates");
        let at = |needle: &str| {
            sql.find(needle)
                .unwrap_or_else(|| panic!("no `{needle}` in:\n{sql}"))
        };
        let modify = at("ALTER TABLE e MODIFY COLUMN event_id varchar(768) NOT NULL;");
        assert!(at("ALTER TABLE p DROP FOREIGN KEY") < modify, "{sql}");
        assert!(
            at("ALTER TABLE e DROP INDEX e_event_stream;") < modify,
            "{sql}"
        );
        assert!(
            modify < at("CREATE INDEX e_event_stream ON e (event_id(255), id);"),
            "{sql}"
        );
        assert!(modify < at("ALTER TABLE p ADD CONSTRAINT"), "{sql}");
    }

    #[test]
    fn library_v1_to_v2_mysql() {
        insta::assert_snapshot!(
            migration_sql(&sample(), &v2(), SqlDialect::Mysql).expect("migrates")
        );
    }

    #[test]
    fn sqlite_needs_a_column_per_table() {
        let mut new = sample();
        new.entities[0].attributes.clear();
        new.entities[0].primary_key.clear();
        let err = migration_sql(&sample(), &new, SqlDialect::Sqlite).expect_err("refused");
        assert!(err.0.contains("`author` has no attributes"), "{err}");
    }

    #[test]
    fn sqlite_alters_in_place_when_it_can() {
        // v1 → v2: book.edition dropped, member.name widened (a rebuild), member.email added.
        let sql = migration_sql(&sample(), &v2(), SqlDialect::Sqlite).expect("migrates");
        assert!(
            sql.contains("ALTER TABLE book DROP COLUMN edition;"),
            "{sql}"
        );
        assert!(sql.contains("CREATE TABLE _dm_new_member ("), "{sql}");
        assert!(
            sql.contains("INSERT INTO _dm_new_member (id, name, joined_at) SELECT id, name, joined_at FROM member;"),
            "{sql}"
        );
        assert!(!sql.contains("_dm_new_book"), "{sql}");
    }

    #[test]
    fn renames_swap_through_temporary_names() {
        let taken: HashSet<String> = ["a".to_string(), "b".to_string()].into_iter().collect();
        let pairs = vec![
            ("a".to_string(), "b".to_string()),
            ("b".to_string(), "a".to_string()),
        ];
        let sql = rename_all(&pairs, &taken, &mut |f, t| format!("{f}>{t};"));
        assert_eq!(sql, "a>_dm_tmp_0;b>_dm_tmp_1;_dm_tmp_0>b;_dm_tmp_1>a;");
        let pairs = vec![("a".to_string(), "c".to_string())];
        assert_eq!(
            rename_all(&pairs, &taken, &mut |f, t| format!("{f}>{t};")),
            "a>c;"
        );
    }

    #[test]
    fn library_v1_to_v2_postgres() {
        insta::assert_snapshot!(
            migration_sql(&sample(), &v2(), SqlDialect::Postgres).expect("migrates")
        );
    }

    #[test]
    fn library_v2_to_v1_postgres() {
        insta::assert_snapshot!(
            migration_sql(&v2(), &sample(), SqlDialect::Postgres).expect("migrates")
        );
    }

    #[test]
    fn library_v1_to_v2_sqlite() {
        insta::assert_snapshot!(
            migration_sql(&sample(), &v2(), SqlDialect::Sqlite).expect("migrates")
        );
    }
}
