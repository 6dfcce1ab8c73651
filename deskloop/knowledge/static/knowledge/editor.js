// The article editor: a formatting toolbar over the HTML textarea, a live preview sanitized by the server (the
// same cleaning as saving), and image upload into the text at the cursor. Without JavaScript the form still saves.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function insertAtCursor(textarea, before, after) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var value = textarea.value;
    var selected = value.slice(start, end);
    textarea.value = value.slice(0, start) + before + selected + (after || "") + value.slice(end);
    var cursor = start + before.length + selected.length + (after || "").length;
    textarea.setSelectionRange(cursor, cursor);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setUp(editor) {
    var body = editor.querySelector("[data-article-body]");
    var preview = editor.querySelector("[data-editor-preview]");
    var toolbar = editor.querySelector("[data-editor-toolbar]");
    if (!body) { return; }
    if (toolbar) { toolbar.hidden = false; }
    editor.querySelectorAll("[data-wrap]").forEach(function (button) {
      button.addEventListener("click", function () {
        var tag = button.getAttribute("data-wrap");
        insertAtCursor(body, "<" + tag + ">", "</" + tag + ">");
      });
    });
    editor.querySelectorAll("[data-list]").forEach(function (button) {
      button.addEventListener("click", function () { insertAtCursor(body, "<ul>\n<li>", "</li>\n</ul>"); });
    });
    editor.querySelectorAll("[data-link]").forEach(function (button) {
      button.addEventListener("click", function () {
        var address = window.prompt(button.getAttribute("data-link-prompt") || "https://");
        if (address && /^(https?:|mailto:)/i.test(address)) {
          insertAtCursor(body, '<a href="' + address.replace(/"/g, "&quot;") + '">', "</a>");
        }
      });
    });
    var timer = null;
    function refreshPreview() {
      var url = editor.getAttribute("data-preview-url");
      if (!url || !preview) { return; }
      var data = new FormData();
      data.append("body", body.value);
      fetch(url, { method: "POST", body: data, headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { preview.innerHTML = html; } });
    }
    body.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refreshPreview, 400);
    });
  }

  function setUpUpload(form) {
    var status = form.querySelector("[data-image-status]");
    form.addEventListener("submit", function (event) {
      var body = document.querySelector("#article-form [data-article-body]");
      if (!body) { return; }
      event.preventDefault();
      status.textContent = "";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      }).then(function (result) {
        if (!result.ok) { status.textContent = result.answer.error || form.getAttribute("data-image-error"); return; }
        var alt = String(result.answer.filename || "").replace(/[<>"&]/g, "");
        insertAtCursor(body, '<img src="' + result.answer.url + '" alt="' + alt + '">', "");
        form.reset();
      }).catch(function () { status.textContent = form.getAttribute("data-image-error"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-editor]").forEach(setUp);
    document.querySelectorAll("[data-image-upload]").forEach(setUpUpload);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
