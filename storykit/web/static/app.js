// storykit app: small enhancements only; every page works without this file.
// - Moves keyboard focus to the error summary, so screen reader users hear the errors first.
// - Asks "Are you sure?" before buttons marked data-confirm="..." submit their form.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
