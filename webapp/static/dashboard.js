// Live refresh: every element with data-refresh="<url>" re-fetches that HTML fragment every
// data-every seconds (default 5) and swaps it in. No framework; nothing runs in a hidden tab.
(function () {
  "use strict";
  function refresh(el) {
    if (document.hidden) return;
    fetch(el.dataset.refresh, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        // A redirect means the session ended: stop polling rather than show the sign-in page.
        if (!response.ok || response.redirected) { el.dataset.stopped = "1"; return null; }
        return response.text();
      })
      .then(function (html) { if (html !== null) el.innerHTML = html; })
      .catch(function () { /* offline for a moment: try again next tick */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(function (el) {
      var seconds = parseInt(el.dataset.every || "5", 10);
      var timer = setInterval(function () {
        if (el.dataset.stopped) { clearInterval(timer); return; }
        refresh(el);
      }, seconds * 1000);
    });
  });
})();
