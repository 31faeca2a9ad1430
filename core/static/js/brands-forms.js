// Moves focus to a form's error summary when the page shows one: keyboard and screen-reader users start
// at the list of problems, whose links lead to each field. Loaded from a file: the CSP forbids inline scripts.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
