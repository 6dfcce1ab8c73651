// The help center without page loads: a search shows its results in place, a vote is sent inline. Everything here
// is an enhancement of plain forms that work without JavaScript (a GET search form, a POST feedback form).
(function () {
  "use strict";
  var PARTIAL = { "X-Deskloop-Partial": "1" };

  function failed(region, response) {
    return response.text().then(function (text) {
      var p = document.createElement("p");
      p.className = "error";
      p.setAttribute("role", "alert");
      p.textContent = text || response.statusText;
      region.replaceChildren(p);
    });
  }

  function liveSearch(form) {
    var region = document.getElementById("search-results");
    if (!region) return;
    form.addEventListener("submit", function (event) {
      var words = form.elements.q.value.trim();
      if (!words) return;
      event.preventDefault();
      var url = form.action + "?" + new URLSearchParams({ q: words }).toString();
      fetch(url, { headers: PARTIAL, credentials: "same-origin" }).then(function (response) {
        if (!response.ok && response.status !== 400) return failed(region, response);
        return response.text().then(function (html) {
          region.innerHTML = html;
          if (window.location.pathname === new URL(form.action, window.location.href).pathname) {
            window.history.replaceState(null, "", url);
          }
          var heading = region.querySelector("h2");
          if (heading) heading.focus();
        });
      });
    });
  }

  function inlineFeedback(form) {
    var choice = null;
    form.addEventListener("click", function (event) {
      if (event.target instanceof HTMLButtonElement) choice = event.target;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new FormData(form);
      var pressed = event.submitter || choice;
      if (pressed && pressed.name) body.set(pressed.name, pressed.value);
      fetch(form.action, { method: "POST", body: body, headers: PARTIAL, credentials: "same-origin" }).then(
        function (response) {
          var section = document.getElementById("feedback");
          if (response.status === 429) return failed(section, response);
          return response.text().then(function (html) {
            section.outerHTML = html;
            var replaced = document.getElementById("feedback");
            var next = replaced.querySelector("form[data-inline-feedback]");
            if (next) inlineFeedback(next);
            replaced.focus();
          });
        }
      );
    });
  }

  document.querySelectorAll("form[data-live-search]").forEach(liveSearch);
  document.querySelectorAll("form[data-inline-feedback]").forEach(inlineFeedback);
})();
