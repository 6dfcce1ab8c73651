// Live suggestions in the portal's request form: as the customer types a subject or description, the server's
// fragment of up to three articles replaces the suggestions box (debounced; the latest answer wins). Without this
// script the form works the same, only without suggestions.
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  var box = document.getElementById("suggestions");
  if (!form || !box || !window.fetch) { return; }
  var url = form.getAttribute("data-suggestions-url");
  var timer = null;
  var asked = 0;
  var lastQuery = "";
  function ask() {
    var subject = form.elements.subject.value;
    var body = form.elements.body.value;
    var query = (subject + " " + body).trim();
    if (query === lastQuery) { return; }
    lastQuery = query;
    var mine = ++asked;
    var params = new URLSearchParams({ subject: subject, body: body.slice(0, 1000), session: form.elements.session.value });
    fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (mine === asked) { box.innerHTML = html; } })
      .catch(function () { /* Suggestions are a help, not a step: a failed fetch leaves the form as it is. */ });
  }
  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(ask, 350);
  }
  form.elements.subject.addEventListener("input", later);
  form.elements.body.addEventListener("input", later);
})();
