//! Editing a draft by hand: tables, columns, keys and relationships changed one operation at a
//! time, each the same change operation (`model::ops::Operation`) the LLM proposes, checked
//! against the model as it stands the moment it is added; saving makes the next draft, with
//! provenance "edited by hand".
//!
//! The *edits* are the operations added so far, applied in order to the draft being edited;
//! the panel shows what each does, the model's problems (saving waits until there are none)
//! and the impact of all of them, as a review would.

use crate::browser::UiError;
use crate::components::code_spans;
use crate::components::diff_view::DiffView;
use crate::components::{ErrorBanner, ProblemList};
use crate::state::workbench::Workbench;
use leptos::prelude::*;
use model::ops::{apply, Operation};
use model::wire::DraftRecord;
use model::{validate, Cardinality, LogicalType, Model, ProposedChange, Relationship};

/// The kinds of edit the form offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditKind {
    AddTable,
    RenameTable,
    DropTable,
    AddColumn,
    RenameColumn,
    AlterColumn,
    DropColumn,
    SetKey,
    AddRelationship,
    DropRelationship,
}

impl EditKind {
    pub const ALL: [EditKind; 10] = [
        EditKind::AddTable,
        EditKind::RenameTable,
        EditKind::DropTable,
        EditKind::AddColumn,
        EditKind::RenameColumn,
        EditKind::AlterColumn,
        EditKind::DropColumn,
        EditKind::SetKey,
        EditKind::AddRelationship,
        EditKind::DropRelationship,
    ];

    pub fn id(self) -> &'static str {
        match self {
            EditKind::AddTable => "add-table",
            EditKind::RenameTable => "rename-table",
            EditKind::DropTable => "drop-table",
            EditKind::AddColumn => "add-column",
            EditKind::RenameColumn => "rename-column",
            EditKind::AlterColumn => "alter-column",
            EditKind::DropColumn => "drop-column",
            EditKind::SetKey => "set-key",
            EditKind::AddRelationship => "add-relationship",
            EditKind::DropRelationship => "drop-relationship",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EditKind::AddTable => "Add a table",
            EditKind::RenameTable => "Rename a table",
            EditKind::DropTable => "Drop a table",
            EditKind::AddColumn => "Add a column",
            EditKind::RenameColumn => "Rename a column",
            EditKind::AlterColumn => "Change a column's type or nullability",
            EditKind::DropColumn => "Drop a column",
            EditKind::SetKey => "Set a table's primary key",
            EditKind::AddRelationship => "Add a relationship",
            EditKind::DropRelationship => "Drop a relationship",
        }
    }

    fn parse(id: &str) -> Option<EditKind> {
        EditKind::ALL.into_iter().find(|k| k.id() == id)
    }

    fn needs_table(self) -> bool {
        !matches!(self, EditKind::AddTable | EditKind::DropRelationship)
    }

    fn needs_column(self) -> bool {
        matches!(
            self,
            EditKind::RenameColumn | EditKind::AlterColumn | EditKind::DropColumn
        )
    }
}

/// What the form holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditForm {
    pub table: String,
    pub column: String,
    /// A new name (table or column), or the name of a new table or column.
    pub name: String,
    /// A type as written (`string(80)`, `integer`, `timestamptz`).
    pub data_type: String,
    pub nullable: bool,
    /// Column names, comma separated (a key, a relationship's columns).
    pub columns: String,
    pub to_table: String,
    pub to_columns: String,
    pub one_to_one: bool,
    /// A relationship, as `index` into the model's relationships.
    pub relationship: String,
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn refuse(message: impl Into<String>) -> UiError {
    UiError::new("VAL_EDIT", message)
}

/// The operation the form describes on `model`, or what is missing.
pub fn operation(kind: EditKind, form: &EditForm, model: &Model) -> Result<Operation, UiError> {
    let name = form.name.trim().to_string();
    let table = form.table.trim().to_string();
    let column = form.column.trim().to_string();
    if kind.needs_table() && table.is_empty() {
        return Err(refuse("pick a table"));
    }
    if kind.needs_column() && column.is_empty() {
        return Err(refuse("pick a column"));
    }
    let named = |what: &str| {
        if name.is_empty() {
            Err(refuse(format!("give the {what} a name")))
        } else {
            Ok(name.clone())
        }
    };
    let data_type = || -> Result<LogicalType, UiError> {
        let written = form.data_type.trim();
        if written.is_empty() {
            return Err(refuse(
                "give the column a type, e.g. string(80), integer, uuid",
            ));
        }
        match LogicalType::parse(written) {
            LogicalType::Unknown(t) => Err(refuse(format!(
                "`{t}` is not a type: use one like string(80), text, integer, bigint, decimal(10,2), boolean, date, timestamptz, uuid, json"
            ))),
            t => Ok(t),
        }
    };
    let attribute = |name: String, t: LogicalType, nullable: bool, key: bool| {
        serde_json::from_value(serde_json::json!({
            "name": name,
            "type": t,
            "nullable": nullable && !key,
        }))
        .map_err(|e| refuse(format!("the column could not be made: {e}")))
    };
    Ok(match kind {
        EditKind::AddTable => {
            let table = named("table")?;
            // A new table starts with its key column, as a modeller would add it.
            let id = attribute("id".into(), LogicalType::Uuid, false, true)?;
            serde_json::from_value::<model::Entity>(serde_json::json!({
                "name": table,
                "attributes": [id],
                "primary_key": ["id"],
            }))
            .map(|entity| Operation::AddEntity { entity })
            .map_err(|e| refuse(format!("the table could not be made: {e}")))?
        }
        EditKind::RenameTable => Operation::RenameEntity {
            from: table,
            to: named("table")?,
        },
        EditKind::DropTable => Operation::DropEntity { entity: table },
        EditKind::AddColumn => Operation::AddAttribute {
            entity: table,
            attribute: attribute(named("column")?, data_type()?, form.nullable, false)?,
        },
        EditKind::RenameColumn => Operation::RenameAttribute {
            entity: table,
            from: column,
            to: named("column")?,
        },
        EditKind::AlterColumn => {
            let current = model
                .entity(&table)
                .and_then(|e| e.attribute(&column))
                .ok_or_else(|| refuse(format!("`{table}.{column}` is not in the model")))?;
            let new_type = if form.data_type.trim().is_empty() {
                None
            } else {
                Some(data_type()?).filter(|t| *t != current.data_type)
            };
            let nullable = Some(form.nullable).filter(|n| *n != current.nullable);
            if new_type.is_none() && nullable.is_none() {
                return Err(refuse("change the type or the nullability first"));
            }
            Operation::AlterAttribute {
                entity: table,
                attribute: column,
                data_type: new_type,
                nullable,
                default: None,
                description: None,
                tags: None,
            }
        }
        EditKind::DropColumn => Operation::DropAttribute {
            entity: table,
            attribute: column,
        },
        EditKind::SetKey => {
            let attributes = list(&form.columns);
            if attributes.is_empty() {
                return Err(refuse("name the key's columns, separated by commas"));
            }
            Operation::SetPrimaryKey {
                entity: table,
                attributes,
            }
        }
        EditKind::AddRelationship => {
            let (from, to) = (list(&form.columns), list(&form.to_columns));
            if form.to_table.trim().is_empty() {
                return Err(refuse("pick the table it refers to"));
            }
            if from.is_empty() || from.len() != to.len() {
                return Err(refuse(
                    "name as many referring columns as referred ones, separated by commas",
                ));
            }
            Operation::AddRelationship {
                relationship: Relationship {
                    name: format!("{}_{}", table, form.to_table.trim()),
                    from_entity: table,
                    from_attributes: from,
                    to_entity: form.to_table.trim().to_string(),
                    to_attributes: to,
                    cardinality: if form.one_to_one {
                        Cardinality::OneToOne
                    } else {
                        Cardinality::ManyToOne
                    },
                    on_delete: Default::default(),
                },
            }
        }
        EditKind::DropRelationship => {
            let r = form
                .relationship
                .parse::<usize>()
                .ok()
                .and_then(|i| model.relationships.get(i))
                .ok_or_else(|| refuse("pick a relationship"))?;
            Operation::DropRelationship {
                from_entity: r.from_entity.clone(),
                to_entity: r.to_entity.clone(),
                name: Some(r.name.clone()).filter(|n| !n.is_empty()),
            }
        }
    })
}

fn as_changes(ops: &[Operation]) -> Vec<ProposedChange> {
    ops.iter()
        .map(|operation| ProposedChange {
            operation: operation.clone(),
            rationale: String::new(),
            notes: vec![],
        })
        .collect()
}

/// `ops` applied in order to `model`: the model, and the operations that did not apply.
pub fn apply_all(model: &Model, ops: &[Operation]) -> (Model, Vec<(usize, String)>) {
    let applied = apply(model, &as_changes(ops), None);
    let refused = applied
        .outcomes
        .iter()
        .filter(|o| !o.applied)
        .map(|o| (o.index, o.reason.clone().unwrap_or_default()))
        .collect();
    (applied.model, refused)
}

#[component]
pub fn EditPanel(
    /// The draft edited; the next draft is made from it.
    parent: DraftRecord,
    /// A table to start with (picked in the dictionary or the diagram).
    #[prop(optional)]
    table: Option<String>,
    on_close: Callback<()>,
) -> impl IntoView {
    let wb = Workbench::expect();
    let base = StoredValue::new(parent.model.clone());
    let ops = RwSignal::new(Vec::<Operation>::new());
    let current = Memo::new(move |_| ops.with(|ops| apply_all(&base.get_value(), ops).0));
    let conventions = wb
        .domain
        .with_untracked(|d| d.as_ref().map(|d| d.conventions.clone()))
        .unwrap_or_default();
    let problems = Memo::new(move |_| current.with(|m| validate(m, &conventions)));
    let kind = RwSignal::new(if table.is_some() {
        EditKind::AddColumn
    } else {
        EditKind::AddTable
    });
    let form = RwSignal::new(EditForm {
        table: table.unwrap_or_default(),
        data_type: "string(100)".into(),
        nullable: true,
        ..Default::default()
    });
    let refusal = RwSignal::new(None::<UiError>);
    let number = parent.number;

    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let model = current.get_untracked();
        let op = match operation(kind.get_untracked(), &form.get_untracked(), &model) {
            Ok(op) => op,
            Err(e) => {
                refusal.set(Some(e));
                return;
            }
        };
        // Checked at once against the model as it stands.
        let (_, refused) = apply_all(&model, std::slice::from_ref(&op));
        if let Some((_, reason)) = refused.into_iter().next() {
            refusal.set(Some(UiError::new("VAL_EDIT", reason)));
            return;
        }
        refusal.set(None);
        ops.update(|o| o.push(op));
        form.update(|f| {
            f.name.clear();
            f.columns.clear();
            f.to_columns.clear();
        });
    };
    let remove = move |i: usize| {
        let mut next = ops.get_untracked();
        next.remove(i);
        // Edits that depended on the removed one go with it.
        let (_, refused) = apply_all(&base.get_value(), &next);
        if !refused.is_empty() {
            let gone: Vec<usize> = refused.iter().map(|(j, _)| *j).collect();
            refusal.set(Some(UiError::new(
                "VAL_EDIT",
                format!(
                    "{} later edit(s) depended on it and were removed too",
                    gone.len()
                ),
            )));
            next = next
                .into_iter()
                .enumerate()
                .filter(|(j, _)| !gone.contains(j))
                .map(|(_, op)| op)
                .collect();
        }
        ops.set(next);
    };
    let save = {
        let parent = parent.clone();
        move |_| {
            let edits = ops.get_untracked();
            if edits.is_empty() || !problems.with_untracked(Vec::is_empty) {
                return;
            }
            wb.save_hand_edit(parent.clone(), current.get_untracked(), &edits);
            on_close.run(());
        }
    };

    // The form's fields for the chosen kind.
    let tables = move || {
        current.with(|m| {
            m.entities
                .iter()
                .map(|e| e.name.clone())
                .collect::<Vec<_>>()
        })
    };
    let columns_of = move |table: String| {
        current.with(|m| {
            m.entity(&table)
                .map(|e| {
                    e.attributes
                        .iter()
                        .map(|a| a.name.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let table_select = move |name: &'static str, label: &'static str, to: bool| {
        view! {
            <label>{label}
                <select name=name on:change=move |ev| {
                    let v = event_target_value(&ev);
                    form.update(|f| if to { f.to_table = v } else { f.table = v; f.column.clear(); });
                }>
                    <option value="" selected=move || form.with(|f| if to { f.to_table.is_empty() } else { f.table.is_empty() })>"—"</option>
                    {move || tables().into_iter().map(|t| {
                        let (picked, value) = (t.clone(), t.clone());
                        view! { <option value=value selected=move || form.with(|f| (if to { &f.to_table } else { &f.table }).eq_ignore_ascii_case(&picked))>{t}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    let column_select = move || {
        view! {
            <label>"Column"
                <select name="edit-column" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let attribute = current.with_untracked(|m| {
                        form.with_untracked(|f| m.entity(&f.table).and_then(|e| e.attribute(&v)).map(|a| (a.data_type.to_string(), a.nullable)))
                    });
                    form.update(|f| {
                        f.column = v;
                        if let Some((t, n)) = attribute { f.data_type = t; f.nullable = n; }
                    });
                }>
                    <option value="" selected=move || form.with(|f| f.column.is_empty())>"—"</option>
                    {move || columns_of(form.with(|f| f.table.clone())).into_iter().map(|c| {
                        let (picked, value) = (c.clone(), c.clone());
                        view! { <option value=value selected=move || form.with(|f| f.column == picked)>{c}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    let text = move |name: &'static str,
                     label: &'static str,
                     placeholder: &'static str,
                     get: fn(&EditForm) -> String,
                     set: fn(&mut EditForm, String)| {
        view! {
            <label>{label}
                <input name=name placeholder=placeholder maxlength="200"
                    prop:value=move || form.with(get)
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)); }/>
            </label>
        }
    };
    let nullable = move || {
        view! {
            <label class="check"><input type="checkbox" name="edit-nullable"
                prop:checked=move || form.with(|f| f.nullable)
                on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| f.nullable = on); }/>
                "Nullable"</label>
        }
    };
    let fields = move || {
        let k = kind.get();
        let mut parts: Vec<AnyView> = Vec::new();
        if k.needs_table() {
            parts.push(table_select("edit-table", "Table", false).into_any());
        }
        if k.needs_column() {
            parts.push(column_select().into_any());
        }
        match k {
            EditKind::AddTable => parts.push(text("edit-name", "Name", "invoice", |f| f.name.clone(), |f, v| f.name = v).into_any()),
            EditKind::RenameTable | EditKind::RenameColumn => parts.push(text("edit-name", "New name", "", |f| f.name.clone(), |f, v| f.name = v).into_any()),
            EditKind::AddColumn => {
                parts.push(text("edit-name", "Name", "due_on", |f| f.name.clone(), |f, v| f.name = v).into_any());
                parts.push(text("edit-type", "Type", "string(100)", |f| f.data_type.clone(), |f, v| f.data_type = v).into_any());
                parts.push(nullable().into_any());
            }
            EditKind::AlterColumn => {
                parts.push(text("edit-type", "Type", "string(100)", |f| f.data_type.clone(), |f, v| f.data_type = v).into_any());
                parts.push(nullable().into_any());
            }
            EditKind::SetKey => parts.push(text("edit-columns", "Key columns", "id", |f| f.columns.clone(), |f, v| f.columns = v).into_any()),
            EditKind::AddRelationship => {
                parts.push(text("edit-columns", "Referring columns", "author_id", |f| f.columns.clone(), |f, v| f.columns = v).into_any());
                parts.push(table_select("edit-to-table", "Refers to table", true).into_any());
                parts.push(text("edit-to-columns", "Referred columns", "id", |f| f.to_columns.clone(), |f, v| f.to_columns = v).into_any());
                parts.push(view! {
                    <label class="check"><input type="checkbox" name="edit-one-to-one"
                        prop:checked=move || form.with(|f| f.one_to_one)
                        on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| f.one_to_one = on); }/>
                        "One to one"</label>
                }.into_any());
            }
            EditKind::DropRelationship => parts.push(view! {
                <label>"Relationship"
                    <select name="edit-relationship" on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.relationship = v); }>
                        <option value="">"—"</option>
                        {move || current.with(|m| m.relationships.iter().enumerate().map(|(i, r)| {
                            let label = format!("{} → {}{}", r.from_entity, r.to_entity, if r.name.is_empty() { String::new() } else { format!(" ({})", r.name) });
                            view! { <option value=i.to_string()>{label}</option> }
                        }).collect_view())}
                    </select>
                </label>
            }.into_any()),
            EditKind::DropTable | EditKind::DropColumn => {}
        }
        parts.collect_view()
    };

    view! {
        <section class="card edit-panel" data-testid="edit-panel">
            <h3>{format!("Edit draft {number} by hand")}</h3>
            <p class="muted">"Each edit is checked as you add it; saving makes the next draft from them."</p>
            <form class="form edit-form" on:submit=add>
                <label>"Change"
                    <select name="edit-kind" on:change=move |ev| {
                        if let Some(k) = EditKind::parse(&event_target_value(&ev)) { kind.set(k); refusal.set(None); }
                    }>
                        {EditKind::ALL.into_iter().map(|k| view! {
                            <option value=k.id() selected=move || kind.get() == k>{k.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                {fields}
                <button type="submit" data-testid="add-edit">"Add this edit"</button>
            </form>
            <ErrorBanner error=refusal/>
            {move || (!ops.with(Vec::is_empty)).then(|| view! {
                <ol class="ops" data-testid="edits">
                    {move || ops.get().into_iter().enumerate().map(|(i, op)| view! {
                        <li class="op" data-testid="edit">
                            <span class="op-text">{code_spans(&op.describe())}</span>
                            " "<button type="button" class="link" on:click=move |_| remove(i)>"Remove"</button>
                        </li>
                    }).collect_view()}
                </ol>
            })}
            {move || {
                let problems = problems.get();
                (!problems.is_empty()).then(|| {
                    let lead = format!("The model has {} problems; saving waits until they are gone.", problems.len());
                    view! { <ProblemList problems lead test_id="edit-problems"/> }
                })
            }}
            {move || (!ops.with(Vec::is_empty)).then(|| view! {
                <h4>"Impact"</h4>
                <DiffView old=base.get_value() new=current.get()/>
            })}
            <div class="row">
                <button type="button" class="primary" data-testid="save-edits"
                    disabled=move || ops.with(Vec::is_empty) || !problems.with(Vec::is_empty)
                    on:click=save>
                    {move || format!("Save {} edit{} as the next draft", ops.with(Vec::len), if ops.with(Vec::len) == 1 { "" } else { "s" })}
                </button>
                <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
            </div>
        </section>
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn library() -> Model {
        serde_json::from_str(include_str!("../../../model/tests/data/library-v1.json")).unwrap()
    }

    fn form(table: &str) -> EditForm {
        EditForm {
            table: table.into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_kind_makes_an_operation_that_applies() {
        let mut model = library();
        let steps: Vec<(EditKind, EditForm)> = vec![
            (
                EditKind::AddTable,
                EditForm {
                    name: "invoice".into(),
                    ..Default::default()
                },
            ),
            (
                EditKind::AddColumn,
                EditForm {
                    name: "total".into(),
                    data_type: "decimal(10,2)".into(),
                    ..form("invoice")
                },
            ),
            (
                EditKind::AddColumn,
                EditForm {
                    name: "member_id".into(),
                    data_type: "uuid".into(),
                    ..form("invoice")
                },
            ),
            (
                EditKind::AddRelationship,
                EditForm {
                    columns: "member_id".into(),
                    to_table: "member".into(),
                    to_columns: "id".into(),
                    ..form("invoice")
                },
            ),
            (
                EditKind::RenameColumn,
                EditForm {
                    column: "total".into(),
                    name: "amount".into(),
                    ..form("invoice")
                },
            ),
            (
                EditKind::AlterColumn,
                EditForm {
                    column: "amount".into(),
                    data_type: "decimal(12,2)".into(),
                    nullable: true,
                    ..form("invoice")
                },
            ),
            (
                EditKind::SetKey,
                EditForm {
                    columns: "id".into(),
                    ..form("invoice")
                },
            ),
            (
                EditKind::RenameTable,
                EditForm {
                    name: "bill".into(),
                    ..form("invoice")
                },
            ),
            (
                EditKind::DropColumn,
                EditForm {
                    column: "edition".into(),
                    ..form("book")
                },
            ),
        ];
        for (kind, f) in steps {
            let op = operation(kind, &f, &model).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let (next, refused) = apply_all(&model, &[op]);
            assert!(refused.is_empty(), "{kind:?}: {refused:?}");
            model = next;
        }
        let bill = model.entity("bill").unwrap();
        assert_eq!(
            bill.attribute("amount").unwrap().data_type.to_string(),
            "decimal(12,2)"
        );
        assert!(bill.attribute("amount").unwrap().nullable);
        assert!(model
            .relationships
            .iter()
            .any(|r| r.from_entity == "bill" && r.to_entity == "member"));
        assert!(model.entity("book").unwrap().attribute("edition").is_none());
        assert!(
            validate(&model, &Default::default()).is_empty(),
            "{:?}",
            validate(&model, &Default::default())
        );
        let index = model
            .relationships
            .iter()
            .position(|r| r.from_entity == "bill")
            .unwrap();
        let drop = operation(
            EditKind::DropRelationship,
            &EditForm {
                relationship: index.to_string(),
                ..Default::default()
            },
            &model,
        )
        .unwrap();
        let (after, refused) = apply_all(&model, &[drop]);
        assert!(refused.is_empty());
        assert_eq!(after.relationships.len(), model.relationships.len() - 1);
        let drop = operation(EditKind::DropTable, &form("bill"), &after).unwrap();
        assert!(apply_all(&after, &[drop]).1.is_empty());
    }

    #[test]
    fn what_is_missing_or_wrong_is_said() {
        let model = library();
        let code = |kind, f: EditForm| operation(kind, &f, &model).unwrap_err().message;
        assert!(code(EditKind::AddTable, EditForm::default()).contains("name"));
        assert!(code(
            EditKind::AddColumn,
            EditForm {
                name: "x".into(),
                ..Default::default()
            }
        )
        .contains("pick a table"));
        assert!(code(
            EditKind::AddColumn,
            EditForm {
                name: "x".into(),
                data_type: "wibble".into(),
                ..form("book")
            }
        )
        .contains("not a type"));
        assert!(code(
            EditKind::AlterColumn,
            EditForm {
                column: "isbn".into(),
                data_type: "string(13)".into(),
                ..form("book")
            }
        )
        .contains("change the type"));
        assert!(code(
            EditKind::AddRelationship,
            EditForm {
                columns: "a,b".into(),
                to_table: "member".into(),
                to_columns: "id".into(),
                ..form("book")
            }
        )
        .contains("as many"));
        // An edit the model refuses says why, from the core.
        let op = operation(
            EditKind::AddColumn,
            &EditForm {
                name: "isbn".into(),
                data_type: "text".into(),
                ..form("book")
            },
            &model,
        )
        .unwrap();
        let (_, refused) = apply_all(&model, &[op]);
        assert_eq!(refused.len(), 1);
        assert!(!refused[0].1.is_empty());
    }
}
