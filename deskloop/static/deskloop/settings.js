/* Settings screens: keep the current screen visible in the phone strip of screens, and move focus to a newly
   created API token (it is shown once, so a screen reader user must land on it). */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    // The product-area tree's indent: set through the CSSOM, which the Content-Security-Policy allows, because a
    // style="" attribute in the page is refused (style-src 'self').
    document.querySelectorAll(".tree-indent[data-depth]").forEach(function (indent) {
      indent.style.setProperty("--depth", indent.getAttribute("data-depth"));
    });
    var current = document.querySelector(".settings-nav [aria-current='page']");
    if (current && current.scrollIntoView) current.scrollIntoView({ block: "nearest", inline: "center" });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var secret = target && target.querySelector ? target.querySelector("[data-new-token]") : null;
    if (secret) secret.focus();
  });
})();
