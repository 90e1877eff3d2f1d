/* Offline search for a storykit website.
 * search-index.js sets window.STORYKIT_SEARCH; this file shows the search form and lists the
 * stories whose words match. Results are built with textContent, never innerHTML, so nothing
 * in a story can become code. Works from file:// as well as from a web server. */
(function () {
  "use strict";
  var data = window.STORYKIT_SEARCH;
  var form = document.getElementById("sk-search-form");
  var input = document.getElementById("sk-search-input");
  var status = document.getElementById("sk-search-status");
  var results = document.getElementById("sk-search-results");
  var nojs = document.getElementById("sk-search-nojs");
  if (!data || !data.stories || !form || !input || !status || !results) {
    return;
  }
  if (nojs) {
    nojs.hidden = true;
  }
  form.hidden = false;

  function words(text) {
    return text.toLowerCase().split(/[^0-9a-z\u00c0-\u024f']+/).filter(function (w) {
      return w.length > 1;
    });
  }

  function score(story, terms) {
    var total = 0;
    var fields = [
      [story.t.toLowerCase(), 5],
      [(story.g || []).join(" ").toLowerCase(), 3],
      [(story.v || "").toLowerCase(), 3],
      [(story.s || "").toLowerCase(), 2],
      [story.w || "", 1]
    ];
    for (var i = 0; i < terms.length; i += 1) {
      var best = 0;
      for (var j = 0; j < fields.length; j += 1) {
        if (fields[j][0].indexOf(terms[i]) !== -1 && fields[j][1] > best) {
          best = fields[j][1];
        }
      }
      if (best === 0) {
        return 0;
      }
      total += best;
    }
    return total;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function card(story) {
    var item = element("li", "card");
    var heading = element("h2", "card__heading");
    var link = element("a", "card__link", story.t);
    link.href = story.u;
    heading.appendChild(link);
    item.appendChild(heading);
    if (story.s) {
      item.appendChild(element("p", "card__summary", story.s));
    }
    var meta = [story.v, story.d ? "Updated " + story.d : ""].filter(Boolean).join(". ");
    if (meta) {
      item.appendChild(element("p", "card__meta", meta));
    }
    return item;
  }

  function show(query) {
    var terms = words(query);
    while (results.firstChild) {
      results.removeChild(results.firstChild);
    }
    if (!terms.length) {
      status.textContent = "Type a word to search for.";
      return;
    }
    var found = [];
    data.stories.forEach(function (story, position) {
      var points = score(story, terms);
      if (points > 0) {
        found.push({ story: story, points: points, position: position });
      }
    });
    found.sort(function (a, b) {
      return b.points - a.points || a.position - b.position;
    });
    found.forEach(function (hit) {
      results.appendChild(card(hit.story));
    });
    var count = found.length === 1 ? "1 story" : found.length + " stories";
    status.textContent = found.length
      ? count + " found for \u2018" + query + "\u2019."
      : "No stories found for \u2018" + query + "\u2019. Try a different word.";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    show(input.value);
    try {
      window.history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
    } catch (ignore) {
      /* some browsers refuse this for file:// pages; the results still show */
    }
  });

  var match = /[?&]q=([^&]*)/.exec(window.location.search);
  if (match) {
    try {
      input.value = decodeURIComponent(match[1].replace(/\+/g, " "));
    } catch (ignore) {
      input.value = "";
    }
    show(input.value);
  }
}());
