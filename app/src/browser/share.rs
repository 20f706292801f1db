//! End-to-end encrypted share links, the browser's half: a draft is *sealed* here with
//! AES-GCM-256 from WebCrypto under a fresh random key; the server receives only the sealed
//! bytes, and the key travels in the link's fragment (`/e/{token}#k=…`), which browsers never
//! send to a server. The reader's browser opens it with `frontend/share.js`.
//!
//! Sealed bytes: the 12-byte IV, then the ciphertext with its 16-byte tag; both the sealed
//! bytes and the key are written as base64url without padding (the key: 43 characters).

use super::UiError;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use model::wire::ShareDoc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A sealed [`ShareDoc`] and the key that opens it, both base64url.
pub struct Sealed {
    pub ciphertext: String,
    pub key: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field(
                "ciphertext",
                &format_args!("{} chars", self.ciphertext.len()),
            )
            .field("key", &"[redacted]")
            .finish()
    }
}

fn failed(what: &str, detail: JsValue) -> UiError {
    UiError::new(
        "CLIENT_CRYPTO",
        format!("{what} failed in this browser ({detail:?}): encrypted links need a browser with WebCrypto on a secure (https or localhost) page"),
    )
}

/// `{ name: "AES-GCM", … }` with the extra fields given.
fn algorithm(fields: &[(&str, JsValue)]) -> Result<js_sys::Object, UiError> {
    let object = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        js_sys::Reflect::set(&object, &JsValue::from_str(k), v)
            .map(|_| ())
            .map_err(|e| failed("preparing the encryption", e))
    };
    set("name", &JsValue::from_str("AES-GCM"))?;
    for (k, v) in fields {
        set(k, v)?;
    }
    Ok(object)
}

/// Seals `doc` under a new random key.
pub async fn seal(doc: &ShareDoc) -> Result<Sealed, UiError> {
    let plain = serde_json::to_vec(doc)
        .map_err(|e| UiError::new("CLIENT_ENCODE", format!("could not encode the draft: {e}")))?;
    let crypto = web_sys::window()
        .ok_or_else(|| UiError::new("CLIENT_CRYPTO", "no browser window"))?
        .crypto()
        .map_err(|e| failed("opening WebCrypto", e))?;
    let mut key = [0u8; 32];
    let mut iv = [0u8; 12];
    crypto
        .get_random_values_with_u8_array(&mut key)
        .map_err(|e| failed("drawing a random key", e))?;
    crypto
        .get_random_values_with_u8_array(&mut iv)
        .map_err(|e| failed("drawing a random IV", e))?;
    let subtle = crypto.subtle();
    let usages = js_sys::Array::of1(&JsValue::from_str("encrypt"));
    let key_data = js_sys::Uint8Array::from(&key[..]);
    let imported = subtle
        .import_key_with_object("raw", &key_data, &algorithm(&[])?, false, &usages)
        .map_err(|e| failed("importing the key", e))?;
    let crypto_key: web_sys::CryptoKey = JsFuture::from(imported)
        .await
        .map_err(|e| failed("importing the key", e))?
        .unchecked_into();
    let params = algorithm(&[("iv", js_sys::Uint8Array::from(&iv[..]).into())])?;
    let encrypted = subtle
        .encrypt_with_object_and_u8_array(&params, &crypto_key, &plain)
        .map_err(|e| failed("encrypting", e))?;
    let buffer = JsFuture::from(encrypted)
        .await
        .map_err(|e| failed("encrypting", e))?;
    let mut sealed = iv.to_vec();
    sealed.extend(js_sys::Uint8Array::new(&buffer).to_vec());
    Ok(Sealed {
        ciphertext: URL_SAFE_NO_PAD.encode(&sealed),
        key: URL_SAFE_NO_PAD.encode(key),
    })
}
