/* Deskloop, every page: global shortcuts (/ search, ? help), the ticket list (j/k move, Enter/o open, x select),
   bulk selection state, tidy shareable filter URLs, and readable messages when a request fails.
   The list is replaced by htmx swaps, so listeners are delegated from the document and state is re-read. */
(function () {
  "use strict";

  var NOT_TYPED = /^(checkbox|radio|button|submit|reset|image|range|color|file)$/;

  // Shortcuts stay quiet while the agent types; a focused checkbox or button is not typing.
  function isTyping(target) {
    if (!target || !(target instanceof Element)) return false;
    if (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName)) return true;
    return target.tagName === "INPUT" && !NOT_TYPED.test(target.getAttribute("type") || "text");
  }

  document.documentElement.classList.add("js");

  function list() { return document.querySelector("[data-ticket-list]"); }
  function rows() {
    var container = list() || document.getElementById("search-results");
    return container ? Array.prototype.slice.call(container.querySelectorAll("[data-ticket-row]")) : [];
  }
  function currentIndex(all) {
    for (var i = 0; i < all.length; i++) if (all[i].classList.contains("is-current")) return i;
    return -1;
  }

  function setCurrent(all, index) {
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) {
      row.classList.toggle("is-current", i === index);
      if (i === index) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
    });
    var row = all[index];
    row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function openRow(row) {
    var link = row && row.querySelector(".ticket-link");
    if (link) window.location.assign(link.href);
  }

  function toast(text, kind) {
    var region = document.getElementById("toasts");
    if (!region || !text) return;
    var item = document.createElement("p");
    item.className = "toast toast-" + (kind || "info");
    item.textContent = text;
    region.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  function updateSelection() {
    var container = list();
    if (!container) return;
    var boxes = container.querySelectorAll("[data-row-select]");
    var chosen = 0;
    boxes.forEach(function (box) {
      var row = box.closest("[data-ticket-row]");
      if (row) row.classList.toggle("is-selected", box.checked);
      if (box.checked) chosen++;
    });
    var all = container.querySelector("[data-select-all]");
    if (all) {
      all.checked = chosen > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    var bar = container.querySelector(".bulk-bar");
    if (bar) bar.classList.toggle("has-selection", chosen > 0);
    var label = container.querySelector("[data-selected-count]");
    if (label) {
      if (!label.hasAttribute("data-empty-text")) label.setAttribute("data-empty-text", label.textContent);
      var template = label.getAttribute("data-selected-template") || "__COUNT__";
      label.textContent = chosen ? template.replace("__COUNT__", String(chosen)) : label.getAttribute("data-empty-text");
    }
  }

  // ---- keyboard ---------------------------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && isTyping(event.target) && event.target.id === "global-search") {
      event.target.blur();
      return;
    }
    if (isTyping(event.target) || document.querySelector("dialog[open]")) return;
    var ticketPage = document.querySelector("[data-ticket-page]");
    var handled = true;
    var all;
    switch (event.key) {
      case "/":
        var box = document.getElementById("search-q") || document.getElementById("global-search");
        if (box) { box.focus(); box.select(); } else handled = false;
        break;
      case "?":
        // The ticket page shows its own, longer help (ticket.js).
        var help = document.getElementById("shortcut-help");
        if (ticketPage || !help) { handled = false; break; }
        help.showModal();
        break;
      case "j":
      case "k":
        all = rows();
        if (!all.length || ticketPage) { handled = false; break; }
        var at = currentIndex(all);
        setCurrent(all, at < 0 ? 0 : at + (event.key === "j" ? 1 : -1));
        break;
      case "Enter":
      case "o":
        all = rows();
        var index = currentIndex(all);
        // Enter on a focused link or button does what it normally does.
        if (index < 0 || (event.key === "Enter" && event.target.closest && event.target.closest("a, button"))) {
          handled = false; break;
        }
        openRow(all[index]);
        break;
      case "x":
        all = rows();
        var row = all[currentIndex(all)];
        var check = row && row.querySelector("[data-row-select]");
        if (!check) { handled = false; break; }
        check.checked = !check.checked;
        updateSelection();
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  });

  // ---- clicks and changes -----------------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-show-shortcuts]")) {
      var help = document.getElementById("shortcut-help");
      if (help) help.showModal();
      return;
    }
    // Clicking a row (not its controls) makes it the current row, so j/k continue from there.
    var row = target.closest("[data-ticket-row]");
    if (row && !target.closest("a, button, input, label, select")) {
      var all = rows();
      setCurrent(all, all.indexOf(row));
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.matches("[data-select-all]")) {
      var container = list();
      if (container) container.querySelectorAll("[data-row-select]").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], [data-row-select]")) updateSelection();
  });

  // An option finder (the organization filter's search box) only refills its drop-down: its own "change" and Enter
  // must not reach the filter form around it, which applies the filters on change and on submit.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof Element && target.hasAttribute("data-option-finder")) event.stopPropagation();
  }, true);
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target instanceof Element && target.hasAttribute("data-option-finder")) event.preventDefault();
  });

  // Enter in the bulk tag field means "Add tag", not the form's first button ("Assign").
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !(target instanceof Element) || !target.hasAttribute("data-enter-clicks")) return;
    var button = document.getElementById(target.getAttribute("data-enter-clicks"));
    if (button) { event.preventDefault(); button.click(); }
  });

  // ---- htmx -------------------------------------------------------------------------------------------------
  // Filter forms leave out empty fields, so the URL that is pushed (and shared) says only what is filtered.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!(elt instanceof Element) || !elt.hasAttribute("data-drop-empty")) return;
    var params = event.detail.parameters;
    var keep = [];
    var names = {};
    var source = event.detail.formData || params;
    if (!source || typeof source.forEach !== "function") return;
    source.forEach(function (value, key) {
      names[key] = true;
      if (value !== "") keep.push([key, value]);
    });
    Object.keys(names).forEach(function (key) {
      if (typeof source.delete === "function") source.delete(key); else delete params[key];
    });
    keep.forEach(function (pair) {
      if (typeof source.append === "function") source.append(pair[0], pair[1]); else params[pair[0]] = pair[1];
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && (target.id === "inbox-results" || (target.querySelector && target.querySelector("[data-ticket-list]")))) {
      updateSelection();
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var body = document.body.dataset;
    if (event.detail.elt && event.detail.elt.hasAttribute && event.detail.elt.hasAttribute("hx-trigger") &&
        /every/.test(event.detail.elt.getAttribute("hx-trigger")) && status !== 403) {
      return; // a failed background refresh is retried on the next tick; no need to shout
    }
    toast(status === 403 ? body.msgForbidden : body.msgFailed, "error");
  });
  document.addEventListener("htmx:sendError", function () { toast(document.body.dataset.msgOffline, "error"); });

  // Messages rendered with the page fade away after a while; errors stay until the next page.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast:not(.toast-error)").forEach(function (item) {
      setTimeout(function () { item.remove(); }, 6000);
    });
    updateSelection();
  });

  window.Deskloop = { isTyping: isTyping, toast: toast };
})();
