// Station behaviour: keep the scan field focused, give every outcome a sound, map function keys
// to the buttons that carry them, and never let a failed request pass silently.
(function () {
  "use strict";

  // The scan field, unless the answer marked where the next keystroke goes (the repair bench
  // puts it in the notes of the order a scan found).
  function focusScanField() {
    var field = document.querySelector("[data-focus-next]") || document.querySelector("[data-scan-field]");
    if (field && document.activeElement !== field && !document.activeElement.matches("input[name=reason]")) {
      field.focus();
      field.select();
    }
  }

  var audio = null;
  function beep(kind) {
    // Distinct tones: a scanner operator hears an error without looking at the screen.
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = kind === "error" ? [220, 180] : kind === "success" ? [880] : [660, 660];
      tones.forEach(function (freq, i) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = freq;
        osc.type = kind === "error" ? "square" : "sine";
        gain.gain.value = 0.08;
        osc.connect(gain);
        gain.connect(audio.destination);
        var start = audio.currentTime + i * 0.18;
        osc.start(start);
        osc.stop(start + 0.14);
      });
    } catch (e) {
      /* no audio device: the visible message still stands */
    }
  }

  // In the error box, with the error sound. The words come from the page (data-unreachable,
  // data-failed) or from the server, in the clerk's language.
  function showFailure(message) {
    var box = document.getElementById("network-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    beep("error");
  }

  // A scanner can fire before the scripts have run: the form then posts without htmx and the
  // answer comes as a whole page. Its outcome is the one a page carries, and it gets its sound.
  document.addEventListener("DOMContentLoaded", function () {
    var outcome = document.querySelector("#outcome[data-outcome]");
    if (outcome) beep(outcome.dataset.outcome);
    focusScanField();
  });

  // htmx fires afterSettle on each element an answer swapped in, out-of-band ones too. The
  // sound goes with the one holding the outcome: once an answer, and never for an answer that
  // left the outcome alone. (detail.target is the element replaced, no longer in the page.)
  document.body.addEventListener("htmx:afterSettle", function (event) {
    // An answer may put its rows on top of a list (a scan's own history entry): keep the newest.
    document.querySelectorAll("ol[data-keep]").forEach(function (list) {
      while (list.children.length > Number(list.dataset.keep)) list.lastElementChild.remove();
    });
    var box = document.getElementById("network-error");
    if (box) box.hidden = true;
    var outcome = document.querySelector("#outcome[data-outcome]");
    if (outcome && event.target.contains(outcome)) beep(outcome.dataset.outcome);
    focusScanField();
  });

  // Enter on the empty scan field confirms the recommendation shown (inspection and
  // disposition desks), so a clerk decides with one key; a scanner always sends a code first,
  // so it never confirms.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var field = event.target.closest("[data-scan-field]");
    var confirm = document.querySelector("[data-confirm]");
    if (!field || !confirm || field.value.trim() !== "") return;
    event.preventDefault();
    confirm.click();
  });

  document.body.addEventListener("htmx:sendError", function () {
    showFailure(document.getElementById("network-error").dataset.unreachable);
  });
  document.body.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("network-error");
    showFailure(box.dataset.failed + " (HTTP " + event.detail.xhr.status + ")");
  });
  // A write that met another station's at the same rows: the server says so and swaps nothing,
  // so the code is still in the field: selected, the next scan replaces it and Enter retries it.
  document.body.addEventListener("requestFailed", function (event) {
    showFailure(event.detail.message);
    var field = document.querySelector("[data-scan-field]");
    if (field) {
      field.focus();
      field.select();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  document.addEventListener("keydown", function (event) {
    if (!/^F\d+$/.test(event.key)) return;
    var button = document.querySelector('[data-key="' + event.key + '"]');
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
