// The public booking page's behaviour (the Content-Security-Policy allows no inline script):
//   <select data-detect-zone>               picks the browser's own time zone when the page was opened without one
(function () {
  "use strict";

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  function detectZone(root) {
    root.querySelectorAll("select[data-detect-zone]").forEach(function (select) {
      select.removeAttribute("data-detect-zone");
      var zone = browserZone();
      if (!zone || zone === select.value) return;
      var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
      if (!known) return;
      select.value = zone;
      // The select reloads the picker through htmx on change; without htmx, the form's GET fallback applies.
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () { detectZone(document); });
  document.addEventListener("htmx:afterSettle", function (event) { detectZone(event.target); });
})();
