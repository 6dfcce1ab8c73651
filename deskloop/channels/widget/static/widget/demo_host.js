/* The demo host page's own script: it identifies its signed-in user (the signature was made on the server) and
 * shows the prefill command. Calls made before widget.js has loaded are queued. */
(function () {
  "use strict";
  window.Deskloop = window.Deskloop || function () { (window.Deskloop.q = window.Deskloop.q || []).push(arguments); };
  var identity = document.getElementById("deskloop-identity");
  if (identity) { window.Deskloop("identify", JSON.parse(identity.textContent)); }
  var prefill = document.getElementById("demo-prefill");
  if (prefill) {
    prefill.addEventListener("click", function () {
      window.Deskloop("prefill", { subject: "The weekly report is empty", body: "Since Monday the weekly report shows no rows." });
    });
  }
})();
