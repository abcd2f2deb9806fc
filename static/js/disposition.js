// Disposition desk: Enter on the empty scan field confirms the recommendation shown, so a
// clerk decides with one key; a scanner always sends a code first, so it never confirms.
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var field = event.target.closest("[data-scan-field]");
    var confirm = document.querySelector("[data-confirm]");
    if (!field || !confirm || field.value.trim() !== "") return;
    event.preventDefault();
    confirm.click();
  });

  // Opening the override panel (F4) puts the keyboard on its first choice.
  document.addEventListener(
    "toggle",
    function (event) {
      if (event.target.matches("details.override") && event.target.open) {
        var first = event.target.querySelector("select");
        if (first) first.focus();
      }
    },
    true
  );
})();
