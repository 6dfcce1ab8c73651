// SLA countdowns: every [data-sla-due] counts down to its deadline each second and turns "breached" (red) when it
// passes. "Now" is the server's (data-sla-now on the nearest [data-sla-clock]), moved on by the browser's clock since
// the page arrived, so the countdown agrees with the server even when the two clocks differ. The text formats are
// those of tickets/sla_badge.py.
(function () {
  "use strict";

  function clockText(seconds, root) {
    seconds = Math.abs(seconds);
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    if (days) {
      return root.dataset.slaDays.replace("%(days)d", days).replace("%(hours)d", Math.floor(rest / 3600));
    }
    var minutes = Math.floor((rest % 3600) / 60);
    var secs = rest % 60;
    return Math.floor(rest / 3600) + ":" + (minutes < 10 ? "0" : "") + minutes + ":" + (secs < 10 ? "0" : "") + secs;
  }

  function tick() {
    var roots = document.querySelectorAll("[data-sla-clock]");
    roots.forEach(function (root) {
      if (!root.slaOffset) {
        // Server now minus browser now when this part of the page arrived (htmx swaps bring new roots).
        root.slaOffset = Date.parse(root.dataset.slaNow) - Date.now() || 1;
      }
      var now = Date.now() + root.slaOffset;
      root.querySelectorAll("[data-sla-due]").forEach(function (badge) {
        var seconds = Math.floor((Date.parse(badge.dataset.slaDue) - now) / 1000);
        var breached = seconds <= 0;
        var template = breached ? root.dataset.slaBreached : root.dataset.slaLeft;
        badge.textContent = template.replace("%(time)s", clockText(seconds, root));
        badge.classList.toggle("sla-breached", breached);
        badge.classList.toggle("sla-running", !breached);
        badge.dataset.slaState = breached ? "breached" : "running";
      });
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
