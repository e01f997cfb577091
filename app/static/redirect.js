// The OAuth redirect page's script (no Wasm, no inline script): hands what Zoho put in the query
// to the portal's main window through localStorage, as Zoho's own sample does, and closes.
// The keys are `zcrm_api::redirect_keys` (a test checks that they match). `code` or `error` is
// written last: the main window acts on the storage event of one of those two, and only when
// `attempt` is the sign-in it started itself.
(function () {
  "use strict";
  var KEYS = {
    state: "zcrm.oauth.state",
    location: "zcrm.oauth.location",
    "accounts-server": "zcrm.oauth.accounts-server",
    code: "zcrm.oauth.code",
    error: "zcrm.oauth.error",
    attempt: "zcrm.oauth.attempt"
  };
  var ATTEMPT = "zcrm.signin.attempt";
  var search = window.location.search;
  // First of all, the code leaves the address bar and history.
  history.replaceState(null, "", window.location.pathname);
  var query = new URLSearchParams(search);
  var status = document.getElementById("status");
  var opener = null;
  try { opener = window.opener; } catch (e) { opener = null; }
  var leave = function () {
    if (opener && !opener.closed) {
      window.close();
    } else {
      // Full-page sign-in (no popup): the portal finishes the sign-in when it loads.
      window.location.replace("/");
    }
  };
  // The sign-in this window started (a popup's session storage is a copy of its opener's).
  // Without one, this visit is nobody's sign-in (a link from elsewhere): nothing is handed over.
  var attempt = null;
  try { attempt = sessionStorage.getItem(ATTEMPT); } catch (e) { attempt = null; }
  if (!attempt) {
    leave();
    return;
  }
  try {
    var last = query.has("code") && !query.has("error") ? "code" : "error";
    ["state", "location", "accounts-server"].forEach(function (name) {
      localStorage.removeItem(KEYS[name]);
      if (query.has(name)) localStorage.setItem(KEYS[name], query.get(name));
    });
    localStorage.removeItem(KEYS.code);
    localStorage.removeItem(KEYS.error);
    localStorage.setItem(KEYS.attempt, attempt);
    localStorage.setItem(KEYS[last], query.get(last) || "invalid_request");
  } catch (e) {
    if (status) status.textContent = "Your browser refused to store the sign-in: " + e;
    return;
  }
  leave();
})();
