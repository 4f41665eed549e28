// Live updates: every few seconds, fetch this page's live part and swap it in.
// Without JavaScript the page is whole as served; a reload refreshes it.
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var live = document.querySelector("[data-live]");
  var status = document.querySelector("[data-live-status]");
  if (!live) { return; }
  function say(text) { if (status) { status.textContent = text; } }
  function refresh() {
    if (document.visibilityState === "hidden") { return; }
    fetch(window.location.href, { headers: { "X-Dashboard-Live": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        live.innerHTML = html;
        say("live · updated " + new Date().toLocaleTimeString());
      })
      .catch(function (error) { say("live updates paused: " + error.message); });
  }
  say("live");
  window.setInterval(refresh, EVERY_MS);
})();
