/* The widget's panel, inside the host's iframe on Deskloop's origin. It holds the widget pass in memory (never a
 * cookie: third-party cookies are refused by many browsers) and sends it with every request in a header; it takes
 * commands only from the page that embeds it (event.source is the parent and event.origin the host's origin). */
(function () {
  "use strict";
  var body = document.body;
  var hostOrigin = body.getAttribute("data-host-origin");
  var widgetPass = body.getAttribute("data-widget-pass");
  var tabs = Array.prototype.slice.call(document.querySelectorAll("[role=tab]"));

  function tell(type) {
    if (hostOrigin && window.parent !== window) { window.parent.postMessage({ type: type }, hostOrigin); }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-Deskloop-Widget"] = widgetPass;
  });

  function paneOf(tab) { return document.getElementById(tab.getAttribute("aria-controls")); }

  function load(tab) {
    var url = tab.getAttribute("data-load");
    if (url && window.htmx) {
      window.htmx.ajax("GET", url, { target: paneOf(tab).querySelector("[data-holder]"), swap: "innerHTML" });
    }
  }

  function select(tab, focus) {
    tabs.forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.tabIndex = chosen ? 0 : -1;
      paneOf(other).hidden = !chosen;
    });
    load(tab);
    if (focus) { tab.focus(); }
  }

  tabs.forEach(function (tab, index) {
    tab.addEventListener("click", function () { select(tab, false); });
    tab.addEventListener("keydown", function (event) {
      var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (step) { select(tabs[(index + step + tabs.length) % tabs.length], true); event.preventDefault(); }
    });
  });

  function selectedTab() {
    return tabs.filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0];
  }

  function focusInside() {
    var pane = paneOf(selectedTab());
    var first = pane.querySelector("input:not([type=hidden]):not([tabindex='-1']), textarea, button, a[href]");
    (first || selectedTab()).focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { tell("deskloop:close"); }
  });
  document.querySelectorAll("[data-close]").forEach(function (button) {
    button.addEventListener("click", function () { tell("deskloop:close"); });
  });

  function markIdentified(name) {
    body.setAttribute("data-identified", name || "yes");
    document.querySelectorAll("[data-anonymous-only]").forEach(function (element) { element.hidden = true; });
    var current = selectedTab();
    if (current && current.getAttribute("data-load")) { load(current); }
  }

  function identify(identity) {
    fetch(body.getAttribute("data-identify-url"), {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "X-Deskloop-Widget": widgetPass },
      body: JSON.stringify(identity)
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (result.ok) {
        widgetPass = result.answer.pass;
        markIdentified(result.answer.name);
      } else {
        body.setAttribute("data-identify-error", result.answer.title || "");
      }
    });
  }

  function prefill(fields) {
    var names = ["subject", "body", "email", "name"];
    names.forEach(function (name) {
      var field = document.getElementById("w-" + name);
      if (field && typeof fields[name] === "string") { field.value = fields[name]; }
    });
    select(document.getElementById("tab-contact"), false);
    var subject = document.getElementById("w-subject");
    if (subject) { subject.dispatchEvent(new Event("input", { bubbles: true })); }
  }

  // A refusal (401, 422, 429) is shown where the answer would have gone, like any other fragment.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });

  // After "Send me a link": ask every few seconds whether the visitor confirmed in their mail.
  function pollConfirmation(holder) {
    var started = Date.now();
    var form = new URLSearchParams({ secret: holder.getAttribute("data-claim-secret") });
    function poll() {
      fetch(holder.getAttribute("data-claim-url"), {
        method: "POST", credentials: "omit", body: form,
        headers: { "X-Deskloop-Widget": widgetPass }
      }).then(function (response) {
        if (response.status === 202 && Date.now() - started < 15 * 60 * 1000) { setTimeout(poll, 3000); return; }
        return response.json().then(function (answer) {
          if (response.ok && answer.pass) { widgetPass = answer.pass; markIdentified(""); }
          else { holder.textContent = holder.getAttribute("data-expired-message"); }
        });
      });
    }
    setTimeout(poll, 3000);
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var holder = event.detail.target.querySelector("[data-claim-url]");
    if (holder) { pollConfirmation(holder); }
  });

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== hostOrigin) { return; }
    var data = event.data || {};
    if (data.type === "deskloop:focus") { focusInside(); }
    else if (data.type === "deskloop:prefill") { prefill(data.fields || {}); }
    else if (data.type === "deskloop:identify") { identify(data.identity || {}); }
  });

  tell("deskloop:ready");
})();
