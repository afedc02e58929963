// The public booking page's behaviours (the Content-Security-Policy allows no inline script):
//   <select data-detect-zone>               picks the browser's own time zone when the page was opened without one
//   <textarea data-maxlength-counter>        shows "n / max characters" under the field as the visitor types
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

  function counterFor(field) {
    var id = field.id ? field.id + "_counter" : "";
    var counter = id ? document.getElementById(id) : null;
    if (!counter) {
      counter = document.createElement("div");
      counter.className = "char-counter";
      if (id) counter.id = id;
      counter.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", counter);
    }
    return counter;
  }

  function updateCounter(field) {
    var max = parseInt(field.getAttribute("maxlength") || field.getAttribute("data-maxlength-counter"), 10);
    if (!max) return;
    var counter = counterFor(field);
    var used = field.value.length;
    counter.textContent = used.toLocaleString() + " / " + max.toLocaleString() + " characters";
    counter.classList.toggle("over", used >= max);
  }

  function bindCounters(root) {
    root.querySelectorAll("[data-maxlength-counter]").forEach(updateCounter);
  }

  function init(root) {
    bindCounters(root);
    detectZone(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-maxlength-counter]")) updateCounter(event.target);
  });
})();
