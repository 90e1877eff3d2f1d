// storykit app: small enhancements only; every page works without this file.
// - Moves keyboard focus to the error summary, so screen reader users hear the errors first.
// - Asks "Are you sure?" before buttons marked data-confirm="..." submit their form.
// - Makes frames marked data-fit-content as tall as the page in them (the review page's
//   story), so it reads as part of the page instead of a box that scrolls on its own.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
  function fit(frame) {
    var doc = frame.contentDocument;
    if (doc && doc.documentElement) {
      frame.style.maxHeight = "none";
      frame.style.height = (doc.documentElement.scrollHeight + 24) + "px";
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("iframe[data-fit-content]"),
    function (frame) {
      frame.addEventListener("load", function () { fit(frame); });
      if (frame.contentDocument && frame.contentDocument.readyState === "complete") {
        fit(frame);
      }
      window.addEventListener("resize", function () { fit(frame); });
    });
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
