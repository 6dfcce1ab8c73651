/* Deskloop in-app widget loader. One tag on the host page:
 *   <script src="https://<deskloop>/widget.js" data-workspace="<slug>" async></script>
 * It adds a launcher button and, on first open, an iframe with the panel, served from Deskloop's own origin.
 * No inline <style> or style="" markup, no eval: styles are set through CSSOM (element.style), which a strict
 * host Content-Security-Policy allows; the host needs only Deskloop's origin in script-src and frame-src.
 * API (calls made before this file loads are queued by the snippet in docs/widget.md):
 *   Deskloop('open') / Deskloop('close') / Deskloop('prefill', {subject, body, email, name})
 *   Deskloop('identify', {user_id, email, name, organization_id, plan, mrr, timestamp, signature})
 */
(function () {
  "use strict";
  var LABELS = __LABELS__;
  var script = document.currentScript || document.querySelector("script[data-workspace][src*='widget.js']");
  if (!script || window.__deskloopWidget) { return; }
  var origin = new URL(script.src, location.href).origin;
  var slug = script.getAttribute("data-workspace") || "";
  var locale = (script.getAttribute("data-locale") || navigator.language || "en").slice(0, 2).toLowerCase();
  var labels = LABELS[locale] || LABELS.en;
  var launcher, frame, holder, ready = false, isOpen = false, outbox = [];

  function css(element, rules) {
    for (var name in rules) { element.style[name] = rules[name]; }
  }

  function send(message) {
    if (ready) { frame.contentWindow.postMessage(message, origin); } else { outbox.push(message); }
  }

  function makePanel() {
    holder = document.createElement("div");
    holder.id = "deskloop-widget-panel";
    holder.setAttribute("role", "dialog");
    holder.setAttribute("aria-label", labels.panel);
    css(holder, {
      position: "fixed", right: "20px", bottom: "88px", width: "380px", maxWidth: "calc(100vw - 40px)",
      height: "560px", maxHeight: "calc(100vh - 120px)", zIndex: "2147483000", display: "none",
      boxShadow: "0 8px 32px rgba(0,0,0,.25)", borderRadius: "12px", overflow: "hidden", background: "#fff"
    });
    frame = document.createElement("iframe");
    frame.title = labels.panel;
    frame.src = origin + "/widget/" + encodeURIComponent(slug) + "/panel/?locale=" + encodeURIComponent(locale) +
      "&origin=" + encodeURIComponent(location.origin);
    css(frame, { border: "0", width: "100%", height: "100%", display: "block" });
    holder.appendChild(frame);
    document.body.appendChild(holder);
  }

  function open() {
    if (!holder) { makePanel(); }
    holder.style.display = "block";
    isOpen = true;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", labels.close);
    frame.focus();
    send({ type: "deskloop:focus" });
  }

  function close() {
    if (!holder || !isOpen) { return; }
    holder.style.display = "none";
    isOpen = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", labels.open);
    launcher.focus();
  }

  var commands = {
    open: open,
    close: close,
    prefill: function (fields) { send({ type: "deskloop:prefill", fields: fields || {} }); },
    identify: function (identity) {
      // Identifying needs the panel: it is made (hidden) so the identity reaches Deskloop before the first open.
      if (!holder) { makePanel(); }
      send({ type: "deskloop:identify", identity: identity || {} });
    }
  };

  function call(name, argument) {
    if (commands.hasOwnProperty(name)) { commands[name](argument); }
  }

  window.addEventListener("message", function (event) {
    // Only the panel, on Deskloop's origin, talks to the loader.
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.type === "deskloop:ready") {
      ready = true;
      var pending = outbox; outbox = [];
      pending.forEach(function (message) { frame.contentWindow.postMessage(message, origin); });
      if (isOpen) { frame.contentWindow.postMessage({ type: "deskloop:focus" }, origin); }
    } else if (data.type === "deskloop:close") {
      close();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen) { close(); }
  });

  function start() {
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.id = "deskloop-widget-launcher";
    launcher.textContent = "?";
    launcher.setAttribute("aria-label", labels.open);
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "deskloop-widget-panel");
    css(launcher, {
      position: "fixed", right: "20px", bottom: "20px", width: "56px", height: "56px", borderRadius: "50%",
      border: "0", background: "#1d4ed8", color: "#fff", font: "bold 24px/56px system-ui, sans-serif",
      cursor: "pointer", zIndex: "2147483000", boxShadow: "0 4px 16px rgba(0,0,0,.25)"
    });
    launcher.addEventListener("click", function () { if (isOpen) { close(); } else { open(); } });
    document.body.appendChild(launcher);
    var queued = (window.Deskloop && window.Deskloop.q) || [];
    window.__deskloopWidget = true;
    window.Deskloop = function (name, argument) { call(name, argument); };
    queued.forEach(function (entry) { call(entry[0], entry[1]); });
  }

  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
