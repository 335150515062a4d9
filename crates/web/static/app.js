// querywarden's only script: the card signature at sign-in and the idle screen lock (§3).
// No inline scripts (the CSP forbids them); settings come from data- attributes.
(function () {
  "use strict";

  function post(url, body, headers) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
      body: JSON.stringify(body || {}),
    });
  }

  // --- Sign-in: nonce → card signature → form post --------------------------------------
  // The real card component is the HiPKI local service. It sends no CORS headers, so the
  // page talks to it through its pop-up page and postMessage. Request/response field names
  // follow the component's published web API (MakeSignature with SHA-256, PKCS7 or PKCS1);
  // check them against the manual of the installed component version.
  var HIPKI = "http://localhost:61161";

  // Without a card reader (or with the component not running) nothing ever answers: after
  // this long the person is told what to check instead of watching "…" forever.
  var CARD_TIMEOUT_MS = 20000;

  function say(form, name, fallback) {
    return (form && form.getAttribute("data-msg-" + name)) || fallback;
  }

  function signWithHiPKI(nonce, pin, form) {
    return new Promise(function (resolve, reject) {
      var popup = window.open(HIPKI + "/popupForm", "hipki", "height=200,width=200,left=100,top=20");
      if (!popup) { reject(new Error(say(form, "popup-blocked", "card component pop-up was blocked"))); return; }
      var timer = setTimeout(function () { cleanup(); reject(new Error(say(form, "no-reader", "card component did not answer"))); }, CARD_TIMEOUT_MS);
      function cleanup() { clearTimeout(timer); window.removeEventListener("message", onMessage); try { popup.close(); } catch (e) {} }
      function onMessage(ev) {
        if (ev.origin !== HIPKI) { return; }
        var data;
        try { data = typeof ev.data === "string" ? JSON.parse(ev.data) : ev.data; } catch (e) { return; }
        if (data && data.func === "getTbs") {
          popup.postMessage(JSON.stringify({
            func: "MakeSignature", signatureType: "PKCS7", tbs: nonce, tbsEncoding: "NONE",
            hashAlgorithm: "SHA256", withCardSN: "false", pin: pin, nonce: nonce
          }), HIPKI);
          return;
        }
        if (data && data.func === "sign") {
          cleanup();
          if (data.ret_code === 0) { resolve({ signature: data.signature, certificate: data.certb64 || "", format: "PKCS7" }); }
          else { reject(new Error("card component error " + data.ret_code)); }
        }
      }
      window.addEventListener("message", onMessage);
    });
  }

  // The DEMO card signs only for someone who knows the account's password (§3: two
  // factors, in the demo too); its refusal is shown like the server's sign-in refusal.
  function showLoginError(message, code) {
    var old = document.getElementById("login-error");
    if (old) { old.parentNode.removeChild(old); }
    var box = document.createElement("div");
    box.className = "error";
    box.id = "login-error";
    box.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = message;
    // The code for machines, as on the server's pages: an attribute, not text.
    box.setAttribute("data-code", code);
    box.appendChild(p);
    var form = document.getElementById("login-form") || document.getElementById("enrol-form");
    form.parentNode.insertBefore(box, form);
    // As after the server's refusal: the password is not kept in the form.
    var password = document.getElementById("password");
    if (password) { password.value = ""; }
  }

  // On the enrolment page the person has no password yet (or is replacing it): the demo card
  // signs there for the holder of the account's enrolment code instead (§3).
  function signWithDemoCard(account, nonce, password, enrolmentCode) {
    var body = enrolmentCode
      ? { account: account, nonce: nonce, enrolment_code: enrolmentCode }
      : { account: account, nonce: nonce, password: password };
    return post("/demo/card/sign", body).then(function (r) {
      if (!r.ok) {
        return r.json().then(function (e) {
          var err = e.error || { message: "demo signer failed", code: "demo.failed" };
          showLoginError(err.message, err.code);
          throw new Error(err.message);
        });
      }
      return r.json();
    });
  }

  // Enrolment (/enrol) proves the card the same way as sign-in.
  var form = document.getElementById("login-form") || document.getElementById("enrol-form");
  if (form) {
    var status = document.getElementById("login-status");
    var signing = false;
    form.addEventListener("submit", function (ev) {
      if (signing) { return; }
      ev.preventDefault();
      var accountField = document.getElementById("account");
      var account = accountField ? accountField.value.trim() : "";
      var demo = document.getElementById("use-demo-signer");
      var pin = document.getElementById("card-pin");
      status.textContent = say(form, "waiting", "…");
      post("/auth/nonce").then(function (r) { return r.json(); }).then(function (n) {
        document.getElementById("nonce").value = n.nonce;
        var codeField = document.getElementById("code");
        return demo && demo.checked
          ? signWithDemoCard(account, n.nonce, document.getElementById("password").value, codeField ? codeField.value.trim() : "")
          : signWithHiPKI(n.nonce, pin ? pin.value : "", form);
      }).then(function (s) {
        document.getElementById("signature").value = s.signature;
        document.getElementById("certificate").value = s.certificate || "";
        document.getElementById("format").value = s.format;
        if (pin) { pin.value = ""; }  // the PIN never goes to our server
        signing = true;
        form.submit();
      }).catch(function (e) { status.textContent = e.message; });
    });
  }

  // --- Print for the case file (§6): the numbered print view's button -------------------
  var printButton = document.querySelector("[data-print]");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }

  // --- Idle screen lock ------------------------------------------------------------------
  var body = document.body;
  var lockAfter = parseInt(body.getAttribute("data-lock-after-ms") || "0", 10);
  var csrf = body.getAttribute("data-csrf");
  function lockNow() {
    // Hide everything at once, then tell the server, then show the lock page.
    var cover = document.getElementById("lock-cover");
    if (cover) { cover.hidden = false; }
    var main = document.querySelector("main");
    if (main) { main.style.visibility = "hidden"; }
    post("/api/v1/session/lock", {}, { "X-CSRF-Token": csrf }).finally(function () {
      // Unlocking returns to this page (the server checks the path).
      var here = window.location.pathname;
      window.location.assign(here === "/" ? "/session/locked" : "/session/locked?return=" + encodeURIComponent(here));
    });
  }
  if (lockAfter > 0 && csrf) {
    var timer = setTimeout(lockNow, lockAfter);
    ["mousemove", "mousedown", "keydown", "scroll", "touchstart"].forEach(function (t) {
      window.addEventListener(t, function () { clearTimeout(timer); timer = setTimeout(lockNow, lockAfter); }, { passive: true });
    });
  }
})();
