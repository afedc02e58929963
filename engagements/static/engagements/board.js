// Drag a pipeline card onto another stage column: posts the new stage and swaps in the board the server returns.
(function () {
  "use strict";
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".opp-card[data-move-url]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });
  document.addEventListener("dragover", function (event) {
    var column = dragged && event.target.closest && event.target.closest(".board-col");
    if (!column) return;
    event.preventDefault();
    column.classList.add("drop-target");
  });
  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest(".board-col");
    if (column) column.classList.remove("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var column = dragged && event.target.closest && event.target.closest(".board-col");
    if (!column) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    var stage = column.getAttribute("data-stage");
    var values = { stage: stage };
    if (stage === "lost") {
      var reason = window.prompt("Why was it lost?");
      if (!reason) { dragged = null; return; }
      values.lost_reason = reason;
    }
    var url = dragged.getAttribute("data-move-url");
    dragged = null;
    window.htmx.ajax("POST", url, { target: "#board", swap: "outerHTML", values: values });
  });
})();
