// storykit app: small enhancements only; every page works without this file.
// - Moves keyboard focus to the error summary, so screen reader users hear the errors first.
// - Asks "Are you sure?" before buttons marked data-confirm="..." submit their form.
// - Makes frames marked data-fit-content as tall as the page in them (the review page's
//   story), so it reads as part of the page instead of a box that scrolls on its own.
// - While a website update or a job is on its way, refreshes its status in place (a polite
//   live region, changed only when the words change); without this, reload the page.
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

  var region = document.querySelector("[data-refresh][data-pending]");
  if (region && window.fetch && window.DOMParser) {
    var refreshRegion = function () {
      fetch(region.getAttribute("data-refresh"), {credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          var page = new window.DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById(region.id);
          if (!fresh) { return; }
          if (region.innerHTML.trim() !== fresh.innerHTML.trim()) {
            region.innerHTML = fresh.innerHTML;
          }
          if (fresh.hasAttribute("data-pending")) { window.setTimeout(refreshRegion, 1000); }
          else { region.removeAttribute("data-pending"); }
        })
        .catch(function () { window.setTimeout(refreshRegion, 5000); });
    };
    window.setTimeout(refreshRegion, 1000);
  }

  var job = document.querySelector("[data-job-status][data-pending]");
  if (job && window.fetch) {
    var words = {queued: "Waiting", running: "Running", done: "Done", failed: "Failed"};
    var show = function (selector, text) {
      var found = job.querySelector(selector);
      if (found && found.textContent !== text) { found.textContent = text; }
    };
    var refreshJob = function () {
      fetch(job.getAttribute("data-job-status"), {credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          show("[data-job-state]", words[data.state] || data.state);
          show("[data-job-percent]", data.state === "running" ? data.percent + "% done." : "");
          show("[data-job-message]", data.message);
          if (data.finished && job.hasAttribute("data-reload")) { window.location.reload(); }
          else if (data.finished) { job.removeAttribute("data-pending"); }
          else { window.setTimeout(refreshJob, 1000); }
        })
        .catch(function () { window.setTimeout(refreshJob, 5000); });
    };
    window.setTimeout(refreshJob, 1000);
  }
})();
