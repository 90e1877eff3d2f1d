// storykit editor: enhancements only. Without this file the editor still works with plain
// form posts (Save, Preview, and a button for each privacy fix).
// - A formatting toolbar for the story text (buttons with words, reachable by keyboard).
// - Live checks: word count, reading age, privacy findings and the preview, a moment after
//   typing stops (POST /stories/<id>/check). When the app is busy (429) it says so under
//   the preview and asks again after the Retry-After seconds.
// - Autosave of the draft (POST /stories/<id>/autosave) with the CSRF token and the etag the
//   page was loaded with. If someone else saved meanwhile, autosave stops and says so: it
//   never saves over their version.
// - A warning before leaving the page with unsaved changes.
(function () {
  "use strict";
  var form = document.getElementById("story-form");
  if (!form) {
    return;
  }
  var body = document.getElementById("body");
  var etag = document.getElementById("base_etag");
  var statusLine = document.getElementById("autosave-status");
  var alertBox = document.getElementById("autosave-alert");
  var CHECK_DELAY = 800;
  var AUTOSAVE_DELAY = 1000 * (parseFloat(form.getAttribute("data-autosave-seconds")) || 8);
  var changes = 0;      // edits made since the page loaded
  var savedAt = 0;      // the edit count the last save covered
  var stopped = false;  // autosave found a conflict or a withdrawn story
  var inFlight = null;  // the autosave request being sent
  var waitingSubmit = null;
  var checkTimer = null;
  var saveTimer = null;
  var checkNumber = 0;

  function dirty() {
    return changes > savedAt;
  }

  function post(url) {
    var data = new FormData(form);
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    });
  }

  // --- the toolbar ------------------------------------------------------------------------
  var toolbar = document.querySelector("[data-toolbar-for]");
  if (toolbar && body) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("[data-md]");
      if (button) {
        format(button.getAttribute("data-md"));
      }
    });
  }

  function format(kind) {
    var start = body.selectionStart;
    var end = body.selectionEnd;
    var text = body.value;
    var chosen = text.slice(start, end);
    var wraps = { bold: ["**", "**", "bold words"], italic: ["_", "_", "words in italics"],
                  link: ["[", "](https://)", "link words"] };
    var prefixes = { heading: "## ", bullets: "- ", numbers: "1. ", quote: "> " };
    var replacement;
    var selectFrom;
    var selectTo;
    if (wraps[kind]) {
      // spaces at either end of the selection stay outside the marks (Markdown needs it)
      var lead = chosen.match(/^\s*/)[0];
      var trail = chosen.slice(lead.length).match(/\s*$/)[0];
      var w = wraps[kind];
      var inner = chosen.slice(lead.length, chosen.length - trail.length) || w[2];
      replacement = lead + w[0] + inner + w[1] + trail;
      selectFrom = start + lead.length + w[0].length;
      selectTo = selectFrom + inner.length;
      if (kind === "link") {
        selectFrom = selectTo + 2;
        selectTo = selectFrom + "https://".length;
      }
    } else {
      var lineStart = text.lastIndexOf("\n", start - 1) + 1;
      var block = text.slice(lineStart, end) || "";
      var lines = block.split("\n").map(function (line, i) {
        var prefix = kind === "numbers" ? (i + 1) + ". " : prefixes[kind];
        return prefix + line;
      });
      replacement = lines.join("\n");
      start = lineStart;
      selectFrom = start;
      selectTo = start + replacement.length;
    }
    body.focus();
    body.setRangeText(replacement, start, end, "select");
    body.setSelectionRange(selectFrom, selectTo);
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // --- live checks and the preview --------------------------------------------------------
  function scheduleCheck(delay) {
    window.clearTimeout(checkTimer);
    checkTimer = window.setTimeout(check, delay);
  }

  function check() {
    var mine = ++checkNumber;
    post(form.getAttribute("data-check-url")).then(function (response) {
      if (response.status === 429) {
        // the app is busy: say so, and ask again when it says to
        var wait = parseInt(response.headers.get("Retry-After"), 10);
        return response.json().then(function (result) {
          if (mine === checkNumber) {
            showBusy(result.message);
            scheduleCheck(1000 * (wait > 0 ? wait : 2));
          }
          return null;
        });
      }
      if (!response.ok) {
        throw new Error("check " + response.status);
      }
      return response.json();
    }).then(function (result) {
      if (!result || mine !== checkNumber) {
        return; // busy, or a newer check is on its way
      }
      var summary = document.getElementById("check-summary");
      if (summary && summary.textContent !== result.summary) {
        summary.textContent = result.summary;
      }
      var details = document.getElementById("check-details");
      if (details) {
        details.outerHTML = result.details;
        showFixButtons();
      }
      var notes = document.getElementById("preview-notes");
      if (notes) {
        notes.innerHTML = result.notes;
      }
      var frame = document.getElementById("preview-frame");
      if (frame && result.preview) {
        frame.srcdoc = result.preview;
        frame.hidden = false;
        var empty = document.getElementById("preview-empty");
        if (empty) {
          empty.hidden = true;
        }
      }
    }).catch(function () {
      // the checks are a help: the page still works, and Preview posts the form
    });
  }

  function showBusy(message) {
    var notes = document.getElementById("preview-notes");
    if (notes) {
      var line = document.createElement("p");
      line.className = "notice notice--warning";
      line.textContent = message;
      notes.replaceChildren(line);
    }
  }

  // --- privacy fixes in the boxes ------------------------------------------------------------
  function showFixButtons() {
    var buttons = document.querySelectorAll("[data-fix-box]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fix-box]");
    if (!button) {
      return;
    }
    var box = document.getElementById(button.getAttribute("data-fix-box"));
    var start = parseInt(button.getAttribute("data-start"), 10);
    var end = parseInt(button.getAttribute("data-end"), 10);
    if (!box || isNaN(start) || isNaN(end) || end > box.value.length) {
      scheduleCheck(0);
      return;
    }
    box.setRangeText(button.getAttribute("data-replacement"), start, end, "end");
    var others = document.querySelectorAll("[data-fix-box]");
    for (var i = 0; i < others.length; i++) {
      others[i].disabled = true; // their positions moved: wait for the new check
    }
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    scheduleCheck(0);
  });

  // --- autosave -----------------------------------------------------------------------------
  function say(message) {
    if (statusLine) {
      statusLine.textContent = message;
    }
  }

  function stop(message) {
    stopped = true;
    window.clearTimeout(saveTimer);
    if (alertBox) {
      alertBox.textContent = "";
      var heading = document.createElement("h2");
      heading.textContent = "Not saved";
      var text = document.createElement("p");
      text.textContent = message;
      alertBox.appendChild(heading);
      alertBox.appendChild(text);
      alertBox.hidden = false;
      alertBox.focus();
    }
    say(message);
  }

  function scheduleSave() {
    if (stopped) {
      return;
    }
    window.clearTimeout(saveTimer);
    saveTimer = window.setTimeout(autosave, AUTOSAVE_DELAY);
  }

  function autosave() {
    if (stopped || !dirty() || inFlight) {
      return;
    }
    var covers = changes;
    say("Saving the draft\u2026");
    inFlight = post(form.getAttribute("data-autosave-url")).then(function (response) {
      return response.json().then(function (result) {
        return { status: response.status, result: result };
      });
    }).then(function (answer) {
      var result = answer.result;
      if (answer.status === 200 && result.saved) {
        etag.value = result.etag;
        savedAt = Math.max(savedAt, covers);
        say(result.message);
      } else if (answer.status === 409 || answer.status === 410) {
        stop(result.message);
      } else {
        say(result.message || "The draft could not be saved automatically. Press Save.");
      }
    }).catch(function () {
      say("The draft could not be saved automatically. Press Save to keep your changes.");
    }).then(function () {
      inFlight = null;
      if (waitingSubmit) {
        var button = waitingSubmit;
        waitingSubmit = null;
        form.requestSubmit(button);
      } else if (dirty()) {
        scheduleSave();
      }
    });
  }

  form.addEventListener("input", function () {
    changes += 1;
    scheduleCheck(CHECK_DELAY);
    scheduleSave();
  });
  form.addEventListener("change", function (event) {
    if (event.target && event.target.id === "theme") {
      scheduleCheck(0);
    }
  });

  form.addEventListener("submit", function (event) {
    if (inFlight) {
      // let the draft save finish first, so this form carries its etag
      event.preventDefault();
      waitingSubmit = event.submitter || null;
      return;
    }
    window.clearTimeout(saveTimer);
    savedAt = changes; // the page is leaving with the text: do not warn
  });

  // --- leaving with unsaved changes -----------------------------------------------------------
  window.addEventListener("beforeunload", function (event) {
    if (dirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  showFixButtons();
})();
