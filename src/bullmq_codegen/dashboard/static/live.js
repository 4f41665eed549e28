// Live updates: every few seconds, fetch this page's live part and swap it in.
// Without JavaScript the page is whole as served; a reload refreshes it.
// The swap waits while text in the live part is selected (a stack trace being copied), and is
// skipped when nothing changed, so selections, open details and scroll positions stay.
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var live = document.querySelector("[data-live]");
  var status = document.querySelector("[data-live-status]");
  if (!live) { return; }
  var shown = null;
  function say(text) { if (status) { status.textContent = text; } }
  function selecting() {
    var selection = window.getSelection ? window.getSelection() : null;
    return selection !== null && !selection.isCollapsed && live.contains(selection.anchorNode);
  }
  function refresh() {
    if (document.visibilityState === "hidden") { return; }
    fetch(window.location.href, { headers: { "X-Dashboard-Live": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var time = new Date().toLocaleTimeString();
        if (selecting()) { say("live · paused while text is selected · " + time); return; }
        if (html !== shown) { live.innerHTML = html; shown = html; }
        say("live · checked " + time);
      })
      .catch(function (error) { say("live updates paused: " + error.message); });
  }
  say("live");
  window.setInterval(refresh, EVERY_MS);
})();
