// Disposition desk: the override panel's keyboard.
(function () {
  "use strict";

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
