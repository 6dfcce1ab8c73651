/* The ticket page: keyboard shortcuts, composer helpers (macros, mentions, size check), presence, dialogs.
   Regions are replaced by htmx out-of-band swaps, so every listener is delegated from the document. */
(function () {
  "use strict";

  if (window.htmx) {
    // Refusals (409 collision, 412 stale, 422 invalid, 403 role) carry an error region to show; other errors do not.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(403|409|412|422)", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }

  function page() { return document.querySelector("[data-ticket-page]"); }
  function composerForm() { return document.getElementById("composer-form"); }
  function composerBody() { return document.querySelector("[data-composer-body]"); }

  function isTyping(target) {
    if (!target || !(target instanceof Element)) return false;
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function openComposer(kind) {
    var radio = document.querySelector(kind === "note" ? "[data-kind-note]" : "[data-kind-reply]");
    if (!radio) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    var body = composerBody();
    if (body) body.focus();
    return true;
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) return false;
    field.focus();
    return true;
  }

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) {
      dialog.showModal();
      var first = dialog.querySelector("input, button");
      if (first) first.focus();
    }
  }

  // --- keyboard shortcuts ---------------------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (!page()) return;
    if (event.key === "Escape" && event.target === composerBody()) {
      event.target.blur();
      var conversation = document.getElementById("conversation");
      if (conversation) { conversation.setAttribute("tabindex", "-1"); conversation.focus(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    var handled = false;
    switch (event.key) {
      case "r": handled = openComposer("reply"); break;
      case "n": handled = openComposer("note"); break;
      case "a": handled = focusField("prop-assignee"); break;
      case "s": handled = focusField("prop-status"); break;
      case "?": openDialog("shortcuts-dialog"); handled = true; break;
    }
    if (handled) event.preventDefault();
  });

  // --- dialogs, remote images -------------------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var opener = target.closest("[data-open-dialog]");
    if (opener) { openDialog(opener.getAttribute("data-open-dialog")); return; }
    var closer = target.closest("[data-close-dialog]");
    if (closer) { var dialog = closer.closest("dialog"); if (dialog) dialog.close(); return; }
    var loader = target.closest("[data-load-remote-images]");
    if (loader) {
      var message = loader.closest("[data-message]");
      message.querySelectorAll("img[data-remote-src]").forEach(function (img) {
        var src = img.getAttribute("data-remote-src") || "";
        // Already limited to http(s) by the sanitizer; checked again because this becomes a live URL.
        if (/^https?:\/\//i.test(src)) img.setAttribute("src", src);
        img.removeAttribute("data-remote-src");
      });
      loader.remove();
      return;
    }
    var mention = target.closest("[data-mention]");
    if (mention) { insertMention(mention); }
  });

  // --- composer: note styling, replying presence, attachment size ---------------------------------------------------
  function syncKind() {
    var form = composerForm();
    if (!form) return;
    var note = form.querySelector("[data-kind-note]");
    form.classList.toggle("is-note", !!(note && note.checked));
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "kind") syncKind();
    if (target && target.matches && target.matches("[data-attachments]")) checkSizes(target);
    if (target && target.matches && target.matches("[data-macro-picker]")) insertMacro(target);
  });

  function checkSizes(input) {
    var form = composerForm();
    var limit = form ? parseInt(form.getAttribute("data-max-bytes"), 10) : 0;
    var errors = document.getElementById("composer-errors");
    var tooBig = Array.prototype.filter.call(input.files || [], function (f) { return limit && f.size > limit; });
    if (tooBig.length && errors) {
      errors.textContent = tooBig.map(function (f) { return "“" + f.name + "”: " + (input.getAttribute("data-too-large") || "too large"); }).join(" ");
    } else if (errors && !errors.querySelector("[name=confirm_collision]")) {
      errors.textContent = "";
    }
  }

  var replying = false;
  function setReplying(value) {
    if (value === replying) return;
    replying = value;
    var field = document.querySelector("[data-presence-replying]");
    if (field) field.value = value ? "1" : "0";
    var beat = document.querySelector("[data-presence-beat]");
    if (beat && window.htmx) htmx.trigger(beat, "beat");
  }
  document.addEventListener("input", function (event) {
    if (event.target === composerBody()) {
      setReplying(event.target.value.trim() !== "");
      suggestMentions(event.target);
    }
  });
  // Presence inputs are re-rendered by the heart-beat; keep the "replying" flag the browser knows about.
  document.addEventListener("htmx:oobAfterSwap", function () {
    var field = document.querySelector("[data-presence-replying]");
    if (field) field.value = replying ? "1" : "0";
    syncKind();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.id === "composer-form" && event.detail.successful && event.detail.xhr.status < 300) {
      // The server cleared the flag with the sent message; only the browser's copy is left to reset.
      replying = false;
      var field = document.querySelector("[data-presence-replying]");
      if (field) field.value = "0";
    }
  });
  // Leaving the composer (or emptying it, see "input" above) ends "X is replying"; coming back with a draft
  // starts it again.
  document.addEventListener("focusout", function (event) {
    if (event.target === composerBody()) setReplying(false);
  });
  document.addEventListener("focusin", function (event) {
    if (event.target === composerBody() && event.target.value.trim() !== "") setReplying(true);
  });

  // --- macros ----------------------------------------------------------------------------------------------------
  function insertMacro(select) {
    var id = select.value;
    if (!id) return;
    var url = select.getAttribute("data-url-template").replace(/\/0\/$/, "/" + encodeURIComponent(id) + "/");
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json().then(function (data) { return { ok: response.ok, data: data }; }); })
      .then(function (result) {
        var errors = document.getElementById("composer-errors");
        if (!result.ok) { if (errors) errors.textContent = result.data.error || ""; return; }
        var body = composerBody();
        if (body) {
          var start = body.selectionStart || 0, end = body.selectionEnd || 0;
          body.value = body.value.slice(0, start) + result.data.body + body.value.slice(end);
          body.focus();
          setReplying(body.value.trim() !== "");
        }
        var hidden = document.querySelector("[data-macro-id]");
        if (hidden) hidden.value = String(result.data.id);
        var note = document.querySelector("[data-macro-note]");
        if (note && result.data.has_actions) {
          note.textContent = (select.getAttribute("data-actions-note") || "") .replace("%(name)s", result.data.name);
          note.hidden = false;
        }
        select.value = "";
      });
  }

  // --- @mention autocomplete ---------------------------------------------------------------------------------------
  function currentMention(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart || 0);
    var match = /(^|[^\w@])@([\w.-]{0,64})$/.exec(before);
    return match ? match[2] : null;
  }
  function mentionList() { return document.querySelector("[data-mention-list]"); }
  function shownMentions() {
    var list = mentionList();
    if (!list || list.hidden) return [];
    return Array.prototype.filter.call(list.querySelectorAll("[data-mention]"), function (o) { return !o.hidden; });
  }
  // The list is a listbox controlled by the composer (a combobox): the caret stays in the text while the arrow
  // keys move the active option, Enter or Tab inserts it, Escape closes the list.
  function setActiveMention(option) {
    var textarea = composerBody();
    var list = mentionList();
    if (!textarea || !list) return;
    list.querySelectorAll("[data-mention]").forEach(function (o) {
      o.setAttribute("aria-selected", o === option ? "true" : "false");
      o.classList.toggle("is-active", o === option);
    });
    if (option) textarea.setAttribute("aria-activedescendant", option.id);
    else textarea.removeAttribute("aria-activedescendant");
  }
  function showMentionList(show) {
    var list = mentionList();
    var textarea = composerBody();
    if (list) list.hidden = !show;
    if (textarea) textarea.setAttribute("aria-expanded", show ? "true" : "false");
    var shown = shownMentions();
    setActiveMention(show && shown.length ? shown[0] : null);
  }
  document.addEventListener("keydown", function (event) {
    if (event.target !== composerBody()) return;
    var shown = shownMentions();
    if (!shown.length) return;
    var active = shown.filter(function (o) { return o.getAttribute("aria-selected") === "true"; })[0];
    var index = shown.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var step = event.key === "ArrowDown" ? 1 : -1;
      setActiveMention(shown[(index + step + shown.length) % shown.length]);
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && active) {
      insertMention(active);
    } else if (event.key === "Escape") {
      showMentionList(false);
    } else {
      return;
    }
    // Handled here: not a new line, not leaving the field, not the page's Escape (leave the composer).
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);

  function suggestMentions(textarea) {
    var list = mentionList();
    if (!list) return;
    var query = currentMention(textarea);
    if (query === null) { showMentionList(false); return; }
    var shown = 0;
    list.querySelectorAll("[data-mention]").forEach(function (option) {
      var name = (option.getAttribute("data-mention-name") || "").toLowerCase();
      var handle = (option.getAttribute("data-mention") || "").split("@")[0].toLowerCase();
      var match = shown < 6 && (name.indexOf(query.toLowerCase()) !== -1 || handle.indexOf(query.toLowerCase()) === 0);
      option.hidden = !match;
      if (match) shown += 1;
    });
    showMentionList(shown > 0);
  }
  function insertMention(option) {
    var textarea = composerBody();
    var list = document.querySelector("[data-mention-list]");
    if (!textarea) return;
    var caret = textarea.selectionStart || 0;
    var before = textarea.value.slice(0, caret).replace(/@([\w.-]{0,64})$/, "");
    var handle = (option.getAttribute("data-mention") || "").split("@")[0];
    textarea.value = before + "@" + handle + " " + textarea.value.slice(caret);
    var position = before.length + handle.length + 2;
    textarea.focus();
    textarea.setSelectionRange(position, position);
    if (list) showMentionList(false);
  }

  // --- leaving the page: stop showing "viewing" to others at once ----------------------------------------------------
  window.addEventListener("pagehide", function () {
    var beat = document.querySelector("[data-presence-beat]");
    var token = document.querySelector("meta[name=csrf-token]");
    if (!beat || !token || !navigator.sendBeacon) return;
    var data = new FormData();
    data.append("leave", "1");
    data.append("csrfmiddlewaretoken", token.getAttribute("content"));
    navigator.sendBeacon(beat.getAttribute("hx-post"), data);
  });

  document.addEventListener("DOMContentLoaded", syncKind);
})();
