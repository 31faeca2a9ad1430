// Filing a case: progressive enhancements only; the server applies the same rules without JavaScript.
(function () {
  "use strict";

  // The evidence hint follows the chosen reason (the rule per lane comes from the server's data-* attributes).
  var hint = document.getElementById("evidence-hint");
  var reason = document.getElementById("id_reason_code");
  if (hint && reason) {
    var required = hint.dataset.requiredReasons.split(" ");
    var follow = function () {
      if (!reason.value) return;
      hint.textContent = required.indexOf(reason.value) >= 0 ? hint.dataset.requiredText : hint.dataset.optionalText;
    };
    reason.addEventListener("change", follow);
    // A reason chosen before this deferred script ran (a quick user, or a form the browser restored on Back)
    // gets its hint now.
    follow();
  }

  // A second click on "File" while the first submit is on its way would only show the same case again.
  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    });
  });
})();
