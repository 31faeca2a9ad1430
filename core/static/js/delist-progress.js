// A delisting job's admin page: keeps the server-rendered progress panel current while the job runs.
// Without JavaScript the panel shows the figures as of the page load; the server needs nothing from here.
(function () {
  "use strict";

  var INTERVAL_MS = 2000;
  var panel = document.querySelector("[data-delist-progress-url]");
  if (!panel) return;
  var url = panel.dataset.delistProgressUrl;

  function finished() {
    var state = panel.querySelector("[data-finished]");
    return !state || state.dataset.finished === "true";
  }

  // Which chunks run, wait or are done, as the panel last said: when it changes, the chunk table below is
  // out of date.
  function chunkStates() {
    var state = panel.querySelector("[data-chunks]");
    return state ? state.dataset.chunks : "";
  }

  function schedule() {
    if (!finished()) window.setTimeout(refresh, INTERVAL_MS);
  }

  function refresh() {
    // Replacing the panel under a focused button or link would drop a keyboard user's focus: wait.
    if (panel.contains(document.activeElement)) {
      schedule();
      return;
    }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        // Logged out or no longer allowed: stop; reloading the page shows why.
        if (!response.ok) return;
        return response.text().then(function (html) {
          var before = chunkStates();
          panel.innerHTML = html;
          if (chunkStates() !== before) refreshRecord();
          schedule();
        });
      })
      .catch(schedule); // a network blip: try again at the next tick
  }

  // Whenever a chunk changes state (and so when the job finishes), the record below the panel (its
  // "Finished at", the chunk table) is re-read from the page itself and swapped in, so nobody has to
  // reload to see the chunks move or the final state; a poll that changed nothing costs no page load.
  function refreshRecord() {
    var record = document.getElementById("delistjob_form");
    if (!record) return;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) return;
        return response.text().then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("delistjob_form");
          if (fresh) record.replaceWith(document.importNode(fresh, true));
        });
      })
      .catch(function () {}); // the panel already shows the final figures
  }

  // Cancelling cannot be undone: ask first. Submit events bubble, so this survives the panel's refreshes.
  panel.addEventListener("submit", function (event) {
    var question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  schedule();
})();
