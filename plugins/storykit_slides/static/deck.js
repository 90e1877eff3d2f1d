/* storykit slides: keyboard navigation, presenter view, announcements. No network, no
   inline handlers; everything works from a file:// page. Without JavaScript the slides
   simply show one after another. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var slides = Array.prototype.slice.call(document.querySelectorAll("#stage > .slide"));
  var total = slides.length;
  var current = 0;
  var byId = function (id) { return document.getElementById(id); };
  var stage = byId("stage");
  var viewport = byId("viewport");
  var live = byId("live");
  var counter = byId("counter");
  var presenter = byId("presenter");
  var nextStage = byId("next-stage");
  var nextNone = byId("next-none");
  var notesView = byId("notes-view");
  var timerText = byId("timer");
  var timerToggle = byId("timer-toggle");
  var help = byId("help");
  var audienceWindow = null;
  var isAudience = window.location.hash === "#audience";

  function titleOf(slide) {
    var heading = slide.querySelector(".slide__title");
    return heading ? heading.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function fit(box, target) {
    var style = window.getComputedStyle(box);
    var width = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    var height = box.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    var scale = Math.min(width / 1280, height / 720);
    target.style.setProperty("--scale", String(Math.max(scale, 0.05)));
  }

  function fitAll() {
    fit(viewport, stage);
    if (!presenter.hidden) { fit(nextStage.parentNode, nextStage); }
  }

  function stripIds(node) {
    node.removeAttribute("id");
    Array.prototype.forEach.call(node.querySelectorAll("[id]"), function (el) {
      el.removeAttribute("id");
    });
    Array.prototype.forEach.call(node.querySelectorAll("a, button"), function (el) {
      el.setAttribute("tabindex", "-1");
    });
    node.removeAttribute("aria-labelledby");
    node.removeAttribute("aria-roledescription");
    node.hidden = false;
    return node;
  }

  function updatePresenter() {
    if (presenter.hidden) { return; }
    nextStage.textContent = "";
    var next = slides[current + 1];
    nextNone.hidden = Boolean(next);
    if (next) {
      var copy = stripIds(next.cloneNode(true));
      copy.classList.remove("is-current");
      nextStage.appendChild(copy);
    }
    notesView.textContent = "";
    var notes = slides[current].querySelector(".slide__notes");
    if (notes) {
      Array.prototype.forEach.call(notes.childNodes, function (child) {
        notesView.appendChild(child.cloneNode(true));
      });
    } else {
      var none = document.createElement("p");
      none.textContent = notesView.getAttribute("data-empty") || "No notes for this slide.";
      notesView.appendChild(none);
    }
    fitAll();
  }

  function show(index, announce) {
    index = Math.max(0, Math.min(total - 1, index));
    slides.forEach(function (slide, i) {
      slide.hidden = i !== index;
      slide.classList.toggle("is-current", i === index);
    });
    var changed = index !== current;
    current = index;
    var label = "Slide " + (index + 1) + " of " + total;
    counter.textContent = label;
    if (announce !== false && (changed || announce === true)) {
      live.textContent = label + ": " + titleOf(slides[index]);
    }
    try {
      window.history.replaceState(null, "", "#" + (isAudience ? "audience" : "slide-" + (index + 1)));
    } catch (err) { /* some browsers refuse for file:// pages; the deck still works */ }
    updatePresenter();
    tellAudience();
  }

  // --- timer ---------------------------------------------------------------------------
  var startedAt = null;
  var elapsed = 0;
  var tick = null;

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function drawTimer() {
    var ms = elapsed + (startedAt ? Date.now() - startedAt : 0);
    var seconds = Math.floor(ms / 1000);
    timerText.textContent = two(Math.floor(seconds / 60)) + ":" + two(seconds % 60);
  }
  function startTimer() {
    if (startedAt === null) {
      startedAt = Date.now();
      tick = window.setInterval(drawTimer, 500);
    }
    timerToggle.textContent = "Pause timer";
    drawTimer();
  }
  function pauseTimer() {
    if (startedAt !== null) {
      elapsed += Date.now() - startedAt;
      startedAt = null;
      window.clearInterval(tick);
    }
    timerToggle.textContent = "Start timer";
    drawTimer();
  }
  function resetTimer() {
    var running = startedAt !== null;
    pauseTimer();
    elapsed = 0;
    if (running) { startTimer(); } else { drawTimer(); }
  }

  // --- views ---------------------------------------------------------------------------
  function setPresenter(on) {
    presenter.hidden = !on;
    root.classList.toggle("presenting", on);
    byId("presenter-button").setAttribute("aria-pressed", on ? "true" : "false");
    if (on) { startTimer(); } else { pauseTimer(); }
    updatePresenter();
    fitAll();
    live.textContent = on ? "Presenter view on" : "Presenter view off";
  }

  function setHelp(on) {
    help.hidden = !on;
    byId("help-button").setAttribute("aria-expanded", on ? "true" : "false");
    if (on) { byId("help-close").focus(); } else { byId("help-button").focus(); }
  }

  function fullScreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (root.requestFullscreen) {
      root.requestFullscreen().catch(function () { /* refused: nothing to do */ });
    }
  }

  function openAudience() {
    var url = window.location.href.split("#")[0] + "#audience";
    audienceWindow = window.open(url, "storykit-audience");
  }

  function tellAudience() {
    if (audienceWindow && !audienceWindow.closed) {
      audienceWindow.postMessage({ storykit: "goto", slide: current + 1 }, "*");
    }
  }

  // The audience window says hello once its script runs; it then follows every move.
  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (audienceWindow && event.source === audienceWindow && data.storykit === "hello") {
      tellAudience();
      return;
    }
    if (!window.opener || event.source !== window.opener) { return; }
    if (data.storykit === "goto" && typeof data.slide === "number") {
      show(data.slide - 1);
    }
  });

  // --- keys and buttons ----------------------------------------------------------------
  var actions = {
    prev: function () { show(current - 1); },
    next: function () { show(current + 1); },
    presenter: function () { setPresenter(presenter.hidden); },
    full: fullScreen,
    help: function () { setHelp(help.hidden); },
    "help-close": function () { setHelp(false); },
    "timer-toggle": function () { if (startedAt === null) { startTimer(); } else { pauseTimer(); } },
    "timer-reset": resetTimer,
    audience: openAudience
  };

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-action]") : null;
    if (button && actions[button.getAttribute("data-action")]) {
      actions[button.getAttribute("data-action")]();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target || {};
    var tag = target.tagName || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) {
      return;
    }
    var onControl = tag === "BUTTON" || tag === "A" || tag === "SUMMARY";
    switch (event.key) {
      case "ArrowRight": case "ArrowDown": case "PageDown": case "n": case "N":
        show(current + 1); break;
      case "ArrowLeft": case "ArrowUp": case "PageUp": case "Backspace":
        show(current - 1); break;
      case " ": case "Spacebar":
        if (onControl) { return; }
        show(event.shiftKey ? current - 1 : current + 1); break;
      case "Home": show(0); break;
      case "End": show(total - 1); break;
      case "p": case "P": case "s": case "S":
        if (!isAudience) { setPresenter(presenter.hidden); } break;
      case "f": case "F": fullScreen(); break;
      case "?": setHelp(help.hidden); break;
      case "Escape":
        if (!help.hidden) { setHelp(false); } else if (!presenter.hidden) { setPresenter(false); }
        else { return; }
        break;
      default: return;
    }
    event.preventDefault();
  });

  window.addEventListener("resize", fitAll);
  if (!document.fullscreenEnabled) { byId("full-button").hidden = true; }
  if (isAudience) {
    root.classList.add("audience");
    if (window.opener) { window.opener.postMessage({ storykit: "hello" }, "*"); }
  }

  var start = /^#slide-(\d+)$/.exec(window.location.hash);
  current = -1;
  show(start ? parseInt(start[1], 10) - 1 : 0, false);
  fitAll();
}());
