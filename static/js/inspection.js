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

  // A barcode scanner types a whole code within milliseconds; nobody presses two keys this close
  // together. An answer key is held that long: if more keys follow at scanner speed they are a
  // scan (the next unit's LPN) and go to the scan field, instead of answering questions with "N",
  // "0" and "1" from "LPN-0001".
  var SCANNER_GAP_MS = 40;
  var held = null;

  function divertToScanField(text) {
    var field = document.querySelector("[data-scan-field]");
    if (!field) return;
    field.focus();
    field.value = text;
  }

  function answer(criterion, key) {
    var radio = criterion.querySelector('input[data-answer-key="' + key.toLowerCase() + '"]');
    if (!radio) return;
    radio.checked = true;
    changed(radio);
    focusNext(criterion);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    var criterion = event.target.closest && event.target.closest("#checklist [data-criterion]");
    if (!criterion) return;
    var burst = held && Date.now() - held.at < SCANNER_GAP_MS;
    if (burst) clearTimeout(held.timer);
    if (event.key === "Enter") {
      event.preventDefault();
      if (burst) {
        divertToScanField(held.keys);
        held = null;
        document.querySelector("[data-scan-field]").form.requestSubmit();
        return;
      }
      if (event.target.type === "text") changed(event.target);
      focusNext(criterion);
      return;
    }
    if (event.target.type !== "radio" || event.key.length !== 1) return;
    event.preventDefault();
    if (burst) {
      divertToScanField(held.keys + event.key);
      held = null;
      return;
    }
    var key = event.key;
    held = {
      keys: key,
      at: Date.now(),
      timer: setTimeout(function () {
        held = null;
        answer(criterion, key);
      }, SCANNER_GAP_MS),
    };
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
