// Small behaviours shared by every page: charts from json_script data, dismissable messages and the
// data-* behaviours that stand in for inline handlers (the Content-Security-Policy allows no inline script):
//   <select data-autosubmit>            submits its form when it changes
//   <form data-confirm="Question?">     asks before submitting
//   <input type="checkbox" data-select-all="name">  ticks every enabled checkbox named `name`
//   <textarea maxlength="2000" data-maxlength-counter>  shows "12 / 2,000 characters" under the field as you
//                                       type (data-maxlength-counter="some-id": writes into that element instead)
//   <button data-copy="#some-input">    copies that input's value to the clipboard and says so
(function () {
  "use strict";

  function drawCharts(root) {
    if (typeof window.Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, {
        type: spec.type || "bar",
        data: {
          labels: spec.labels,
          datasets: (spec.datasets || [{ label: spec.label || "", data: spec.values }]).map(function (d, i) {
            var palette = ["#12355b", "#2ec4b6", "#ff9f1c", "#e71d36", "#6c757d"];
            return Object.assign({ backgroundColor: palette[i % palette.length], borderRadius: 4 }, d);
          }),
        },
        options: Object.assign(
          {
            responsive: true,
            maintainAspectRatio: false,
            plugins: { legend: { display: !!spec.datasets } },
            scales: (spec.type || "bar") === "bar" ? { y: { beginAtZero: true, ticks: { precision: 0 } } } : undefined,
          },
          spec.options || {}
        ),
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
    document.querySelectorAll(".message").forEach(function (el) {
      el.addEventListener("click", function () { el.remove(); });
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // Delegated on document, so content that htmx swaps in behaves the same without re-binding.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("select[data-autosubmit]") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
    if (el.matches("input[type=checkbox][data-select-all]")) {
      var name = el.getAttribute("data-select-all");
      var scope = el.form || document;
      scope.querySelectorAll('input[type=checkbox][name="' + name + '"]:not(:disabled)').forEach(function (box) {
        box.checked = el.checked;
      });
    }
  });
  // Characters left before a field's maxlength, counted as the browser counts them against the limit.
  function counterFor(field) {
    var id = field.getAttribute("data-maxlength-counter");
    var out = id ? document.getElementById(id) : field.nextElementSibling;
    if (out && (id || out.hasAttribute("data-maxlength-output"))) return out;
    out = document.createElement("div");
    out.className = "helptext";
    out.setAttribute("data-maxlength-output", "");
    out.setAttribute("aria-live", "polite");
    if (id) out.id = id;
    field.insertAdjacentElement("afterend", out);
    return out;
  }
  function updateCounter(field) {
    var max = parseInt(field.getAttribute("maxlength"), 10);
    if (!(max > 0)) return;
    var used = field.value.length;
    var out = counterFor(field);
    out.textContent = used.toLocaleString("en-US") + " / " + max.toLocaleString("en-US") + " characters" +
      (used >= max ? " (the limit)" : "");
  }
  function initCounters(root) {
    root.querySelectorAll("[data-maxlength-counter]").forEach(updateCounter);
  }
  document.addEventListener("DOMContentLoaded", function () { initCounters(document); });
  document.addEventListener("htmx:afterSettle", function (event) { initCounters(event.target); });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-maxlength-counter]")) updateCounter(event.target);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
