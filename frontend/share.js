// The page of an end-to-end encrypted share link (`/e/{token}#k=…`).
//
// The server sends the sealed draft (`data-ciphertext` on `#share`: base64url of the 12-byte
// AES-GCM IV followed by the ciphertext and its tag) and never the key: that is the link's
// fragment, which browsers do not send to servers. This script opens it with WebCrypto,
// then renders it with the tools module, the same core code that renders a plain link's
// page on the server (`share_page`), and makes each download in the browser
// (`share_download`). Nothing it reads leaves the page.

const root = document.getElementById("share");
const status = document.getElementById("share-status");

// Says what went wrong, with a code, in place of the page.
function fail(message, code) {
  status.textContent = message;
  status.dataset.code = code;
  status.classList.add("error");
  status.setAttribute("role", "alert");
  root.dataset.state = "error";
}

// base64url (padding optional) to bytes; `null` when it is not base64url.
function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null;
  let b64 = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  while (b64.length % 4) b64 += "=";
  try {
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

async function open() {
  // The page's first words are for a reader without JavaScript; this one has it.
  status.textContent = "Decrypting…";
  const key = new URLSearchParams(location.hash.slice(1)).get("k");
  if (!key) {
    fail(
      "This link has no key. An encrypted link ends with #k= and 43 characters: copy the whole link, including the part after #.",
      "SHARE_KEY_MISSING",
    );
    return;
  }
  const raw = fromBase64Url(key);
  if (!raw || raw.length !== 32) {
    fail(
      "The key in this link is damaged: after #k= there should be 43 characters. Copy the whole link again.",
      "SHARE_KEY_INVALID",
    );
    return;
  }
  const sealed = fromBase64Url(root.dataset.ciphertext || "");
  if (!sealed || sealed.length < 12 + 16) {
    fail("This link's content is damaged. Ask its owner for a new link.", "SHARE_CIPHERTEXT");
    return;
  }
  const cryptoKey = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
  let plain;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.slice(0, 12) },
      cryptoKey,
      sealed.slice(12),
    );
  } catch {
    fail(
      "The key in this link does not open it: the link was changed or cut short. Ask its owner for the link again.",
      "SHARE_KEY_WRONG",
    );
    return;
  }
  let doc;
  try {
    doc = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    fail("This link's content could not be read. Ask its owner for a new link.", "SHARE_CONTENT");
    return;
  }

  status.textContent = "Rendering…";
  const tools = await import(root.dataset.toolsJs);
  await tools.default({ module_or_path: root.dataset.toolsWasm });
  const call = (request) => JSON.parse(tools.call(JSON.stringify(request)));

  const answer = call({ tool: "share_page", doc });
  if (!answer.share_page) {
    const error = answer.error || { code: "SHARE_RENDER", message: "unexpected answer" };
    fail(`This link's draft could not be shown: ${error.message}`, error.code);
    return;
  }
  document.title = `${answer.share_page.title} · Data Modeller`;
  // The core's renderer escapes every text it writes and builds links only from safe
  // targets (see model::share), so its HTML can be inserted as it is.
  const page = document.createElement("div");
  page.className = "share-page";
  page.innerHTML = answer.share_page.html;
  status.textContent = "";
  status.hidden = true;
  root.append(page);
  root.dataset.state = "ready";

  // Downloads are made here, from the decrypted draft.
  root.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-format]");
    if (!link || !root.contains(link)) return;
    event.preventDefault();
    const made = call({ tool: "share_download", doc, format: link.dataset.format });
    if (!made.download) {
      const error = made.error || { code: "SHARE_DOWNLOAD", message: "unexpected answer" };
      fail(`This download could not be made: ${error.message}`, error.code);
      status.hidden = false;
      return;
    }
    const blob = new Blob([made.download.text], { type: made.download.media_type });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = made.download.file_name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
}

open().catch((error) => fail(`This page could not be shown: ${error.message}`, "SHARE_RENDER"));
