// Inspection station: answer the checklist from the keyboard. y/n answer pass/fail questions,
// digits pick a scale value or an option, Enter moves to the next question, and each answer
// fires "change" so htmx recomputes the grade. desk.js puts focus back on the scan field after
// every swap; this file, loaded after it, takes focus to the checklist when one is on screen.
(function () {
  "use strict";

  var lastFocused = null;

  function criteria() {
    return Array.prototype.slice.call(document.querySelectorAll("#checklist [data-criterion]"));
  }

  function isAnswered(criterion) {
    var radios = criterion.querySelectorAll("input[type=radio]");
    if (radios.length) return !!criterion.querySelector("input[type=radio]:checked");
    var field = criterion.querySelector("input[type=text]");
    return !!(field && field.value.trim());
  }

  function focusCriterion(criterion) {
    var target =
      criterion.querySelector("input[type=radio]:checked") ||
      criterion.querySelector("input[type=radio], input[type=text]");
    if (target) {
      target.focus();
      criterion.scrollIntoView({ block: "nearest" });
    }
  }

  function focusNext(from) {
    var list = criteria();
    var next = list[list.indexOf(from) + 1];
    if (next) {
      focusCriterion(next);
    } else {
      var save = document.querySelector("#checklist button[type=submit]");
      if (save) save.focus();
    }
  }

  function focusChecklist() {
    var list = criteria();
    if (!list.length) return false;
    var invalid = document.querySelector("#checklist [data-invalid]");
    var open = list.filter(function (c) { return !isAnswered(c); })[0];
    focusCriterion(invalid || open || list[0]);
    return true;
  }

  function changed(element) {
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    var criterion = event.target.closest && event.target.closest("#checklist [data-criterion]");
    if (!criterion) return;
    if (event.key === "Enter") {
      event.preventDefault();
      if (event.target.type === "text") changed(event.target);
      focusNext(criterion);
      return;
    }
    if (event.target.type !== "radio") return;
    var key = event.key.toLowerCase();
    var radio = criterion.querySelector('input[data-answer-key="' + key + '"]');
    if (!radio) return;
    event.preventDefault();
    radio.checked = true;
    changed(radio);
    focusNext(criterion);
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.closest && event.target.closest("#checklist")) lastFocused = event.target;
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("#outcome.outcome-error")) focusChecklist();
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "score") {
      // Only the grade changed: the clerk keeps answering where they were.
      if (lastFocused && document.contains(lastFocused)) lastFocused.focus();
      return;
    }
    if (target.id === "inspect-desk" && !document.querySelector("#outcome.outcome-error")) {
      focusChecklist();
    } else if (document.querySelector("#checklist [data-invalid]")) {
      focusChecklist();
    }
  });
})();
