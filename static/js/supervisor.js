// Supervisor queues: the header box ticks or clears every row on the page.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-select-all]")) return;
    var table = event.target.closest("table");
    table.querySelectorAll("tbody input[type=checkbox]").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
})();
