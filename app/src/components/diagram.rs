//! The ER diagram of a draft, or of a review pair with its changes highlighted.
//!
//! The geometry comes from the core (`model::diagram::layout`, run in the tools module): boxes,
//! rows and orthogonal edges with their cardinality. This component only draws it and lets the
//! user move around and move boxes:
//! - *view*: a translation and a scale (`screen = diagram × scale + translation`); dragging the
//!   background pans, the wheel zooms around the pointer, the buttons zoom, fit and arrange
//!   again, arrow keys and `+`/`-` work when the canvas has focus;
//! - only what is on screen (with a margin) is in the DOM, and under [`DETAIL_SCALE`] boxes draw
//!   as their names only, so a draft of hundreds of tables pans smoothly;
//! - dragging a box moves it; on release its position is kept for the domain
//!   (`Workbench::place`, synced), and the core lays the diagram out again around the kept
//!   positions (only the edges move). Boxes the domain has no position for yet get the
//!   layout's, kept at once, so that the next draft opens with the same picture;
//! - a search box focuses a table; the mini-map shows the whole diagram and the view, and a
//!   click on it moves there;
//! - "SVG" and "PNG" export exactly what is laid out (the core's SVG renderer; the PNG is that
//!   SVG drawn on a canvas).
//!
//! Everything shown is text: names come from the model and are set as text nodes.

use crate::browser::{tools, UiError};
use crate::components::exports::DownloadLink;
use crate::components::ErrorBanner;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::diagram::highlight::Mark;
use model::diagram::metric::{HEADER_BASELINE, HEADER_HEIGHT, PADDING_X, ROW_BASELINE, ROW_HEIGHT};
use model::diagram::svg::marker;
use model::diagram::{Diagram, EdgeEnd, Highlight, Point, Positions, Rect};
use model::Model;

/// Below this scale a box shows its name only.
pub const DETAIL_SCALE: f64 = 0.45;
/// Below this scale even names are too small to read (22 px at 15 % is 3 px): boxes only,
/// and edges without their cardinality marks.
pub const TINY_SCALE: f64 = 0.15;
const MIN_SCALE: f64 = 0.03;
const MAX_SCALE: f64 = 3.0;
/// Screen pixels kept in the DOM around the visible area.
const OVERSCAN: f64 = 240.0;
/// Size of the mini-map, in screen pixels.
const MINI_WIDTH: f64 = 200.0;
const MINI_HEIGHT: f64 = 125.0;

/// The view: translation and scale.
#[derive(Clone, Copy, Debug, PartialEq)]
struct View {
    tx: f64,
    ty: f64,
    k: f64,
}

/// What the pointer is doing.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Gesture {
    None,
    Pan {
        x: f64,
        y: f64,
        from: View,
    },
    /// Dragging box `index`; `x`, `y` where the pointer went down.
    Drag {
        index: usize,
        x: f64,
        y: f64,
        moved: bool,
    },
}

/// What a review passes: the older model and the entity to bring into view when the user
/// picks a change; the diagram reports the entity the user picks in it.
#[derive(Clone)]
pub struct ReviewLink {
    pub old: Model,
    pub focus: RwSignal<Option<String>>,
}

#[component]
pub fn DiagramView(
    /// The model drawn (the newer one in a review).
    model: Model,
    /// For a review: the older model and the shared focus.
    #[prop(optional)]
    review: Option<ReviewLink>,
    /// The domain's kept positions.
    #[prop(into)]
    positions: Signal<Positions>,
    /// Keeps positions (`true`: forget the others first).
    on_place: Callback<(Positions, bool)>,
    /// File name stem of the exports (`draft-2`, `review-1-2`).
    stem: String,
    /// Title written into the exported SVG.
    title: String,
    /// Told of every download, to keep a record of it.
    #[prop(optional)]
    on_export: Option<Callback<crate::components::exports::ExportMade>>,
    /// Opens the hand-edit panel for the picked table; without it the diagram is read-only.
    #[prop(optional)]
    on_edit: Option<Callback<String>>,
    /// The draft this one was made from: a table it renamed keeps its kept place.
    #[prop(default = None)]
    parent: Option<Model>,
) -> impl IntoView {
    let diagram = RwSignal::new(None::<Diagram>);
    let highlight = RwSignal::new(None::<Highlight>);
    let error = RwSignal::new(None::<UiError>);
    let view_state = RwSignal::new(View {
        tx: 0.0,
        ty: 0.0,
        k: 1.0,
    });
    let size = RwSignal::new((800.0_f64, 520.0_f64));
    let gesture = RwSignal::new(Gesture::None);
    let offset = RwSignal::new((0.0_f64, 0.0_f64));
    let focus = review
        .as_ref()
        .map(|r| r.focus)
        .unwrap_or_else(|| RwSignal::new(None));
    let compare = review.as_ref().map(|r| r.old.clone());
    let fitted = StoredValue::new(false);
    let canvas = NodeRef::<leptos::html::Div>::new();
    let sequence = StoredValue::new(0_u64);
    let model = StoredValue::new(model);
    let compare = StoredValue::new(compare);
    let parent = StoredValue::new(parent);

    // Lay out whenever the kept positions change; keep the positions of boxes that had none.
    Effect::new(move |_| {
        let priors = positions.get();
        let run = sequence.get_value() + 1;
        sequence.set_value(run);
        spawn_local(async move {
            let result = tools::diagram(
                model.get_value(),
                priors.clone(),
                compare.get_value(),
                parent.get_value(),
            )
            .await;
            if sequence.try_get_value() != Some(run) {
                return;
            }
            match result {
                Ok((laid, marks)) => {
                    let mut missing = Positions::default();
                    for b in &laid.entities {
                        if priors.get(&b.name).is_none() {
                            missing.set(
                                &b.name,
                                Point {
                                    x: b.rect.x,
                                    y: b.rect.y,
                                },
                            );
                        }
                    }
                    diagram.try_set(Some(laid));
                    highlight.try_set(marks);
                    error.try_set(None);
                    if !missing.0.is_empty() {
                        on_place.run((missing, false));
                    }
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    });

    // The canvas's size, now and after every window resize.
    let measure = move || {
        if let Some(el) = canvas.try_get_untracked().flatten() {
            let (w, h) = (f64::from(el.client_width()), f64::from(el.client_height()));
            if w > 0.0 && h > 0.0 {
                size.try_set((w, h));
            }
        }
    };
    Effect::new(move |_| {
        if canvas.get().is_some() {
            measure();
        }
    });
    // The listener belongs to the window: it goes with the diagram.
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let fit = move || {
        let Some(bounds) = diagram.with_untracked(|d| d.as_ref().map(|d| d.bounds)) else {
            return;
        };
        let (w, h) = size.get_untracked();
        let k = (w / bounds.width)
            .min(h / bounds.height)
            .clamp(MIN_SCALE, 1.0);
        view_state.set(View {
            tx: (w - bounds.width * k) / 2.0 - bounds.x * k,
            ty: (h - bounds.height * k) / 2.0 - bounds.y * k,
            k,
        });
    };
    // The first diagram opens fitted.
    Effect::new(move |_| {
        if diagram.with(Option::is_some) && size.get().0 > 0.0 && !fitted.get_value() {
            fitted.set_value(true);
            fit();
        }
    });
    let zoom_at = move |px: f64, py: f64, factor: f64| {
        view_state.update(|v| {
            let k = (v.k * factor).clamp(MIN_SCALE, MAX_SCALE);
            let ratio = k / v.k;
            v.tx = px - (px - v.tx) * ratio;
            v.ty = py - (py - v.ty) * ratio;
            v.k = k;
        });
    };
    let zoom_center = move |factor: f64| {
        let (w, h) = size.get_untracked();
        zoom_at(w / 2.0, h / 2.0, factor);
    };
    let center_on = move |rect: Rect, min_scale: f64| {
        let (w, h) = size.get_untracked();
        view_state.update(|v| {
            v.k = v.k.max(min_scale).min(MAX_SCALE);
            v.tx = w / 2.0 - (rect.x + rect.width / 2.0) * v.k;
            v.ty = h / 2.0 - (rect.y + rect.height / 2.0) * v.k;
        });
    };
    // A focus set from outside (a change picked in the review) brings its box into view.
    Effect::new(move |_| {
        let Some(name) = focus.get() else {
            return;
        };
        let rect = diagram.with(|d| d.as_ref().and_then(|d| d.entity(&name)).map(|b| b.rect));
        if let Some(rect) = rect {
            center_on(rect, 0.8);
        }
    });

    // The diagram coordinates that are drawn: the screen with a margin.
    let window = Memo::new(move |_| {
        let v = view_state.get();
        let (w, h) = size.get();
        let pad = OVERSCAN / v.k;
        Rect {
            x: -v.tx / v.k - pad,
            y: -v.ty / v.k - pad,
            width: w / v.k + 2.0 * pad,
            height: h / v.k + 2.0 * pad,
        }
    });
    let dragged = Memo::new(move |_| match gesture.get() {
        Gesture::Drag {
            index, moved: true, ..
        } => Some(index),
        _ => None,
    });
    // What is drawn: the core's pick of boxes and edges in the window, and a box being
    // dragged wherever it is.
    let visible = Memo::new(move |_| {
        let win = window.get();
        let dragging = dragged.get();
        diagram.with(|d| {
            d.as_ref().map_or_else(Default::default, |d| {
                let (mut boxes, edges) = d.visible(&win);
                if let Some(i) = dragging.filter(|i| !boxes.contains(i)) {
                    boxes.push(i);
                }
                (boxes, edges)
            })
        })
    });
    let detail = Memo::new(move |_| view_state.get().k >= DETAIL_SCALE);

    // Pointer gestures.
    let client =
        move |ev: &leptos::ev::PointerEvent| (f64::from(ev.client_x()), f64::from(ev.client_y()));
    let local = move |x: f64, y: f64| -> (f64, f64) {
        canvas
            .get_untracked()
            .map(|el| {
                let r = el.get_bounding_client_rect();
                (x - r.left(), y - r.top())
            })
            .unwrap_or((x, y))
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let (x, y) = client(&ev);
        if let Some(el) = canvas.get_untracked() {
            let _ = el.set_pointer_capture(ev.pointer_id());
            let _ = el.focus();
        }
        if gesture.get_untracked() == Gesture::None {
            gesture.set(Gesture::Pan {
                x,
                y,
                from: view_state.get_untracked(),
            });
        }
    };
    let start_drag = move |index: usize, ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let (x, y) = client(&ev);
        offset.set((0.0, 0.0));
        gesture.set(Gesture::Drag {
            index,
            x,
            y,
            moved: false,
        });
    };
    // Pointer moves arrive faster than frames: the latest one is applied once per animation
    // frame, so a frame does the view's work once.
    let latest_move = StoredValue::new(None::<(f64, f64)>);
    let move_scheduled = StoredValue::new(false);
    let apply_move = move |x: f64, y: f64| match gesture.get_untracked() {
        Gesture::None => {}
        Gesture::Pan { x: x0, y: y0, from } => view_state.set(View {
            tx: from.tx + x - x0,
            ty: from.ty + y - y0,
            k: from.k,
        }),
        Gesture::Drag {
            index,
            x: x0,
            y: y0,
            moved,
        } => {
            let k = view_state.get_untracked().k;
            let (dx, dy) = ((x - x0) / k, (y - y0) / k);
            if moved || (x - x0).abs() + (y - y0).abs() > 3.0 {
                offset.set((dx, dy));
                if !moved {
                    gesture.set(Gesture::Drag {
                        index,
                        x: x0,
                        y: y0,
                        moved: true,
                    });
                }
            }
        }
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        if gesture.get_untracked() == Gesture::None {
            return;
        }
        latest_move.set_value(Some(client(&ev)));
        if !move_scheduled.get_value() {
            move_scheduled.set_value(true);
            request_animation_frame(move || {
                move_scheduled.try_set_value(false);
                if let Some(Some((x, y))) = latest_move.try_get_value() {
                    latest_move.try_set_value(None);
                    apply_move(x, y);
                }
            });
        }
    };
    let on_up = move |_ev: leptos::ev::PointerEvent| {
        // The last move counts, even if its frame has not come yet.
        if let Some((x, y)) = latest_move.get_value() {
            latest_move.set_value(None);
            apply_move(x, y);
        }
        let ended = gesture.get_untracked();
        gesture.set(Gesture::None);
        let Gesture::Drag { index, moved, .. } = ended else {
            return;
        };
        let Some((name, rect)) = diagram.with_untracked(|d| {
            d.as_ref()
                .and_then(|d| d.entities.get(index))
                .map(|b| (b.name.clone(), b.rect))
        }) else {
            return;
        };
        if !moved {
            // A click picks the table (the review follows).
            focus.set(Some(name));
            return;
        }
        let (dx, dy) = offset.get_untracked();
        let at = Point {
            x: (rect.x + dx).round(),
            y: (rect.y + dy).round(),
        };
        // Shown where it was dropped until the new layout arrives.
        diagram.update(|d| {
            if let Some(b) = d.as_mut().and_then(|d| d.entities.get_mut(index)) {
                let dy = at.y - b.rect.y;
                b.rect.x = at.x;
                b.rect.y = at.y;
                for row in &mut b.rows {
                    row.y += dy;
                }
            }
        });
        offset.set((0.0, 0.0));
        let mut set = Positions::default();
        set.set(&name, at);
        on_place.run((set, false));
    };
    // Wheel steps within one frame add up and zoom once.
    let wheel = StoredValue::new(None::<(f64, f64, f64)>);
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let (x, y) = local(f64::from(ev.client_x()), f64::from(ev.client_y()));
        let factor = (-ev.delta_y() * 0.0015).exp();
        let first = wheel.get_value().is_none();
        wheel.update_value(|w| {
            *w = Some(match *w {
                Some((_, _, f)) => (x, y, f * factor),
                None => (x, y, factor),
            })
        });
        if first {
            request_animation_frame(move || {
                if let Some(Some((x, y, f))) = wheel.try_get_value() {
                    wheel.try_set_value(None);
                    zoom_at(x, y, f);
                }
            });
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let step = 60.0;
        match ev.key().as_str() {
            "ArrowLeft" => view_state.update(|v| v.tx += step),
            "ArrowRight" => view_state.update(|v| v.tx -= step),
            "ArrowUp" => view_state.update(|v| v.ty += step),
            "ArrowDown" => view_state.update(|v| v.ty -= step),
            "+" | "=" => zoom_center(1.25),
            "-" | "_" => zoom_center(0.8),
            "0" => fit(),
            _ => return,
        }
        ev.prevent_default();
    };

    // Search.
    let query = RwSignal::new(String::new());
    let names = Memo::new(move |_| {
        diagram.with(|d| {
            d.as_ref()
                .map(|d| {
                    d.entities
                        .iter()
                        .map(|b| b.name.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let not_found = RwSignal::new(false);
    let search = move || {
        let q = query.get_untracked().trim().to_lowercase();
        if q.is_empty() {
            return;
        }
        let hit = names.with_untracked(|all| {
            all.iter()
                .find(|n| n.to_lowercase() == q)
                .or_else(|| all.iter().find(|n| n.to_lowercase().starts_with(&q)))
                .or_else(|| all.iter().find(|n| n.to_lowercase().contains(&q)))
                .cloned()
        });
        not_found.set(hit.is_none());
        if let Some(name) = hit {
            focus.set(Some(name));
        }
    };

    // Exports.
    let svg_text = RwSignal::new(None::<String>);
    let png_url = RwSignal::new(None::<String>);
    let exporting = RwSignal::new(false);
    let export_svg = move |png: bool| {
        exporting.set(true);
        let priors = diagram
            .with_untracked(|d| d.as_ref().map(Diagram::positions))
            .unwrap_or_default();
        let title = title.clone();
        spawn_local(async move {
            let result =
                tools::diagram_svg(model.get_value(), priors, compare.get_value(), Some(title))
                    .await;
            match result {
                Ok(svg) if png => match crate::browser::svg_to_png(&svg).await {
                    Ok(url) => {
                        png_url.try_set(Some(url));
                    }
                    Err(e) => {
                        error.try_set(Some(e));
                    }
                },
                Ok(svg) => {
                    svg_text.try_set(Some(svg));
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
            exporting.try_set(false);
        });
    };
    let export_png = export_svg.clone();
    let stem_svg = format!("{stem}.svg");
    let stem_png = format!("{stem}.png");

    let entity_class = move |index: usize| {
        move || {
            let name = diagram.with(|d| {
                d.as_ref()
                    .and_then(|d| d.entities.get(index))
                    .map(|b| b.name.clone())
            });
            let mut class = String::from("dm-entity");
            if let Some(name) = name {
                if let Some(mark) = highlight.with(|h| h.as_ref().and_then(|h| h.entity(&name))) {
                    class.push(' ');
                    class.push_str(mark.class());
                }
                if focus.with(|f| f.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(&name))) {
                    class.push_str(" dm-focused");
                }
            }
            if dragged.get() == Some(index) {
                class.push_str(" dm-dragging");
            }
            class
        }
    };
    let box_view = move |index: usize| {
        let Some(b) =
            diagram.with_untracked(|d| d.as_ref().and_then(|d| d.entities.get(index)).cloned())
        else {
            return ().into_any();
        };
        let transform = move || {
            let (x, y) = diagram.with(|d| {
                d.as_ref()
                    .and_then(|d| d.entities.get(index))
                    .map_or((0.0, 0.0), |b| (b.rect.x, b.rect.y))
            });
            let (dx, dy) = if dragged.get() == Some(index) {
                offset.get()
            } else {
                (0.0, 0.0)
            };
            format!("translate({} {})", x + dx, y + dy)
        };
        let (w, h) = (b.rect.width, b.rect.height);
        let name = b.name.clone();
        let rows_name = b.name.clone();
        let top = b.rect.y;
        let columns = b.columns;
        let rows = b.rows.clone();
        let detailed = move || {
            if !detail.get() {
                return ().into_any();
            }
            rows.iter()
                .map(|row| {
                    let y = row.y - top;
                    let mark = highlight.with(|h| h.as_ref().and_then(|h| h.attribute(&rows_name, &row.attribute)));
                    let class = match mark {
                        Some(m) => format!("dm-row {}", m.class()),
                        None => "dm-row".to_string(),
                    };
                    let removed = mark == Some(Mark::Removed);
                    view! {
                        <g class=class>
                            <rect class="dm-row-bg" x="1" y=y width=w - 2.0 height=ROW_HEIGHT/>
                            <text class="dm-marks" x=columns.marks y=y + ROW_BASELINE>{row.marks.clone()}</text>
                            <text class="dm-attr" class:dm-struck=removed x=columns.name y=y + ROW_BASELINE>{row.label.clone()}</text>
                            <text class="dm-type" x=columns.data_type y=y + ROW_BASELINE>{row.type_label.clone()}</text>
                            {row.nullable.then(|| view! { <text class="dm-null" x=columns.null y=y + ROW_BASELINE>"NULL"</text> })}
                        </g>
                    }
                })
                .collect_view()
                .into_any()
        };
        view! {
            <g class=entity_class(index) transform=transform data-entity=name.clone()
                on:pointerdown=move |ev| start_drag(index, ev)>
                <title>{name.clone()}</title>
                <rect class="dm-box" x="0" y="0" width=w height=h rx="3"/>
                <rect class="dm-head" x="0" y="0" width=w height=HEADER_HEIGHT rx="3"/>
                <text class="dm-name" x=PADDING_X y=HEADER_BASELINE>{b.label.clone()}</text>
                {detailed}
            </g>
        }
        .into_any()
    };
    let edge_view = move |index: usize| {
        let shape = move || {
            let moving = dragged.get();
            let (dx, dy) = offset.get();
            diagram.with(|d| {
                let d = d.as_ref()?;
                let e = d.edges.get(index)?;
                let moved_name = moving
                    .and_then(|i| d.entities.get(i))
                    .map(|b| b.name.as_str());
                let from_moves = moved_name.is_some_and(|n| n.eq_ignore_ascii_case(&e.from));
                let to_moves = moved_name.is_some_and(|n| n.eq_ignore_ascii_case(&e.to));
                let shift = |end: &EdgeEnd, on: bool| {
                    let mut end = *end;
                    if on {
                        end.at.x += dx;
                        end.at.y += dy;
                    }
                    end
                };
                let (from, to) = (shift(&e.from_end, from_moves), shift(&e.to_end, to_moves));
                // While a box is dragged its edges run straight; the layout routes them again
                // when it is dropped.
                let points = if from_moves || to_moves {
                    vec![from.at, to.at]
                } else {
                    e.points.clone()
                };
                let mark = highlight.with(|h| h.as_ref().and_then(|h| h.relationship(e)));
                let class = mark.map_or_else(
                    || "dm-edge".to_string(),
                    |m| format!("dm-edge {}", m.class()),
                );
                Some((path(&points), marker(&from), marker(&to), class))
            })
        };
        view! {
            <g class="dm-edge-group">
                {move || shape().map(|(d, a, b, class)| view! {
                    <path class=class d=d/>
                    <path class="dm-marker" d=a.lines/>
                    {a.circle.map(|(c, r)| view! { <circle class="dm-marker dm-zero" cx=c.x cy=c.y r=r/> })}
                    <path class="dm-marker" d=b.lines/>
                    {b.circle.map(|(c, r)| view! { <circle class="dm-marker dm-zero" cx=c.x cy=c.y r=r/> })}
                })}
            </g>
        }
    };

    // The mini-map: every box, and the view.
    let mini = move || {
        diagram.with(|d| {
            let d = d.as_ref()?;
            let b = d.bounds;
            let boxes = d
                .entities
                .iter()
                .map(|e| {
                    let mark = highlight.with_untracked(|h| h.as_ref().and_then(|h| h.entity(&e.name)));
                    let class = mark.map_or("dm-mini-box".to_string(), |m| format!("dm-mini-box {}", m.class()));
                    view! { <rect class=class x=e.rect.x y=e.rect.y width=e.rect.width height=e.rect.height/> }
                })
                .collect_view();
            Some(view! {
                <svg class="dm-minimap" data-testid="diagram-minimap" width=MINI_WIDTH height=MINI_HEIGHT
                    viewBox=format!("{} {} {} {}", b.x, b.y, b.width, b.height)
                    preserveAspectRatio="xMidYMid meet"
                    on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                        ev.stop_propagation();
                        // From the mini-map's pixels to diagram coordinates.
                        let scale = (MINI_WIDTH / b.width).min(MINI_HEIGHT / b.height);
                        let (ox, oy) = ((MINI_WIDTH - b.width * scale) / 2.0, (MINI_HEIGHT - b.height * scale) / 2.0);
                        let x = b.x + (f64::from(ev.offset_x()) - ox) / scale;
                        let y = b.y + (f64::from(ev.offset_y()) - oy) / scale;
                        center_on(Rect { x, y, width: 0.0, height: 0.0 }, 0.0);
                    }>
                    {boxes}
                    <rect class="dm-mini-view" x=move || window.get().x + OVERSCAN / view_state.get().k
                        y=move || window.get().y + OVERSCAN / view_state.get().k
                        width=move || size.get().0 / view_state.get().k
                        height=move || size.get().1 / view_state.get().k/>
                </svg>
            })
        })
    };

    view! {
        <section class="diagram" data-testid="diagram">
            <div class="diagram-tools row">
                <form class="row diagram-search" on:submit=move |ev| { ev.prevent_default(); search(); }>
                    <input type="search" name="diagram-search" list="diagram-tables" placeholder="Find a table"
                        aria-label="Find a table in the diagram" data-testid="diagram-search"
                        prop:value=move || query.get()
                        on:input=move |ev| { query.set(event_target_value(&ev)); not_found.set(false); }
                        on:change=move |_| search()/>
                    <datalist id="diagram-tables">
                        {move || names.get().into_iter().map(|n| view! { <option value=n/> }).collect_view()}
                    </datalist>
                </form>
                {move || not_found.get().then(|| view! { <span class="muted" data-testid="diagram-not-found">"No such table."</span> })}
                {move || focus.get().zip(on_edit).map(|(name, edit)| {
                    let label = format!("Edit {name}");
                    view! { <button type="button" data-testid="diagram-edit" on:click=move |_| edit.run(name.clone())>{label}</button> }
                })}
                <span class="grow"></span>
                <button type="button" aria-label="Zoom out" title="Zoom out (-)" on:click=move |_| zoom_center(0.8)>"−"</button>
                <span class="muted zoom" data-testid="diagram-zoom">{move || format!("{:.0} %", view_state.get().k * 100.0)}</span>
                <button type="button" aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| zoom_center(1.25)>"+"</button>
                <button type="button" data-testid="diagram-fit" title="Fit the diagram (0)" on:click=move |_| fit()>"Fit"</button>
                <button type="button" data-testid="diagram-arrange" title="Forget the kept positions and lay the diagram out again"
                    on:click=move |_| { fitted.set_value(false); on_place.run((Positions::default(), true)); }>"Arrange again"</button>
                <button type="button" data-testid="diagram-svg" disabled=move || exporting.get() on:click=move |_| export_svg(false)>"SVG"</button>
                <button type="button" data-testid="diagram-png" disabled=move || exporting.get() on:click=move |_| export_png(true)>"PNG"</button>
            </div>
            {move || svg_text.get().map(|text| {
                let file = stem_svg.clone();
                let made = file.clone();
                let record = Callback::new(move |bytes: usize| {
                    if let Some(f) = on_export { f.run(("SVG diagram".to_string(), made.clone(), bytes)) }
                });
                view! {
                    <p class="row notice">"The SVG is ready: "<DownloadLink text file label="Download SVG" on_download=record/></p>
                }
            })}
            {move || png_url.get().map(|url| {
                let file = stem_png.clone();
                let made = file.clone();
                // The PNG's size: its data URL's base64 payload, three bytes per four characters.
                let bytes = url.split_once(',').map_or(0, |(_, b64)| b64.len() * 3 / 4);
                view! {
                    <p class="row notice">"The PNG is ready: "
                        <a class="button" href=url download=file data-testid="download-png"
                            on:click=move |_| { if let Some(f) = on_export { f.run(("PNG diagram".to_string(), made.clone(), bytes)) } }>"Download PNG"</a>
                    </p>
                }
            })}
            <ErrorBanner error/>
            <div class="diagram-canvas" node_ref=canvas tabindex="0" aria-label="Diagram: drag to pan, wheel to zoom, drag a table to move it"
                on:pointerdown=on_down on:pointermove=on_move on:pointerup=on_up on:pointercancel=on_up
                on:wheel=on_wheel on:keydown=on_key>
                {move || diagram.with(Option::is_none).then(|| view! {
                    <p class="muted waiting"><span class="spinner"></span>"Drawing the diagram…"</p>
                })}
                <svg class="dm-svg" width="100%" height="100%">
                    <g transform=move || { let v = view_state.get(); format!("translate({} {}) scale({})", v.tx, v.ty, v.k) }>
                        <g class="dm-edges" class:dm-tiny=move || view_state.get().k < TINY_SCALE>
                            <For each=move || visible.with(|v| v.1.clone()) key=|i| *i children=edge_view/>
                        </g>
                        <g class="dm-entities" class:dm-overview=move || !detail.get() class:dm-tiny=move || view_state.get().k < TINY_SCALE>
                            <For each=move || visible.with(|v| v.0.clone()) key=|i| *i children=box_view/>
                        </g>
                    </g>
                </svg>
                {mini}
            </div>
            <p class="muted diagram-help">"Drag the background to pan, the wheel to zoom, a table to move it (its place is kept for this domain). Click a table to pick it."</p>
        </section>
    }
}

/// SVG path data of a polyline.
fn path(points: &[Point]) -> String {
    let mut out = String::new();
    for (i, p) in points.iter().enumerate() {
        out.push_str(if i == 0 { "M" } else { " L" });
        out.push_str(&format!("{:.1} {:.1}", p.x, p.y));
    }
    out
}
