// The composer's article finder on the ticket page: "Insert link" and "Insert text" put the article into the
// reply box at the cursor. Delegated from the document, because htmx swaps the composer after each send.
(function () {
  "use strict";

  function insert(text) {
    var box = document.getElementById("composer-body");
    if (!box) { return; }
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    var value = box.value;
    var before = value.slice(0, start);
    var gap = before && !/\s$/.test(before) ? "\n" : "";
    box.value = before + gap + text + value.slice(end);
    var cursor = (before + gap + text).length;
    box.focus();
    box.setSelectionRange(cursor, cursor);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    var link = target.closest("[data-insert-link]");
    if (link) {
      insert(link.getAttribute("data-insert-title") + ": " + link.getAttribute("data-insert-link"));
      return;
    }
    var text = target.closest("[data-insert-text]");
    if (text) { insert(text.getAttribute("data-insert-text")); }
  });

  // Enter in the search box searches; it must never send the reply.
  document.addEventListener("keydown", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target && target.matches("[data-article-finder-query]") && event.key === "Enter") { event.preventDefault(); }
  });
})();
