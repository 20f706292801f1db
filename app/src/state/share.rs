//! Sharing: what happens when the user makes a read-only link to a draft or a review pair.
//!
//! A *plain* link is rendered by the server from the synced draft, so the draft is synced
//! first: a link to a draft the server does not have is refused with the reason. An
//! *encrypted* link is sealed here (`browser::share`) and the server keeps only ciphertext;
//! its key is appended to the link as the fragment. Either way the full link exists only in
//! the answer to its creation: the server keeps a hash of the token.

use crate::browser::{api, now_ms, share, sync, UiError};
use model::diagram::Positions;
use model::wire::{CreateShare, DraftRecord, ShareDoc, ShareInfo};
use uuid::Uuid;

/// How long a new link works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Hour,
    Day,
    Week,
    /// Until the end of this day (milliseconds since the epoch, midnight UTC that starts it).
    Date(i64),
    Never,
}

impl Expiry {
    /// The expiry time for a link made at `now`.
    pub fn at(self, now: i64) -> Option<i64> {
        const HOUR: i64 = 3_600_000;
        match self {
            Expiry::Hour => Some(now + HOUR),
            Expiry::Day => Some(now + 24 * HOUR),
            Expiry::Week => Some(now + 7 * 24 * HOUR),
            Expiry::Date(start) => Some(start + 24 * HOUR),
            Expiry::Never => None,
        }
    }
}

/// Parses `YYYY-MM-DD` (an `<input type="date">` value) as the midnight UTC that starts it.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm, the inverse of `utc_time`'s).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400_000)
}

/// What the user chose in the share form.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareOptions {
    pub expiry: Expiry,
    pub label: String,
    pub preview: bool,
    pub encrypted: bool,
}

/// A link just made: the whole URL (with the key for an encrypted one) and its record.
#[derive(Clone, PartialEq)]
pub struct NewLink {
    pub url: String,
    pub share: ShareInfo,
}

/// Makes a link to `draft` (with `old`, a review pair) for `user`.
pub async fn create_link(
    user: Uuid,
    domain: &str,
    positions: &Positions,
    draft: &DraftRecord,
    old: Option<&DraftRecord>,
    options: ShareOptions,
) -> Result<NewLink, UiError> {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let label = Some(options.label.trim().to_string()).filter(|l| !l.is_empty());
    let mut request = CreateShare {
        draft_id: draft.id,
        old_draft_id: old.map(|d| d.id),
        expires_at: options.expiry.at(now_ms()),
        label,
        preview: options.preview && !options.encrypted,
        ciphertext: None,
    };
    let key = if options.encrypted {
        let sealed = share::seal(&ShareDoc::of(
            domain,
            positions,
            draft.clone(),
            old.cloned(),
        ))
        .await?;
        request.ciphertext = Some(sealed.ciphertext);
        Some(sealed.key)
    } else {
        // The server renders the page from its copy: it must have the draft.
        if let Err(e) = sync::sync_now(user).await {
            return Err(UiError::new(
                "SHARE_NOT_SYNCED",
                format!("this draft has not reached the server yet, and syncing failed: {}; try again when the server can be reached", e.message),
            ));
        }
        None
    };
    let created = api::create_share(&request).await?;
    let url = match key {
        Some(key) => format!("{origin}{}#k={key}", created.path),
        None => format!("{origin}{}", created.path),
    };
    Ok(NewLink {
        url,
        share: created.share,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_the_midnight_that_starts_them() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400_000));
        assert_eq!(
            crate::components::utc_time(parse_date("2026-11-28").expect("a date")),
            "2026-11-28 00:00 UTC"
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-00-10",
            "2026-1",
            "x-y-z",
            "2026-01-32",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn expiries_count_from_now() {
        let now = 1_000;
        assert_eq!(Expiry::Hour.at(now), Some(now + 3_600_000));
        assert_eq!(Expiry::Week.at(now), Some(now + 604_800_000));
        assert_eq!(Expiry::Never.at(now), None);
        // A date lasts until its end.
        assert_eq!(Expiry::Date(0).at(now), Some(86_400_000));
    }
}
