// Reload a page that shows a job still queued or running (the server sets data-refresh, in
// seconds, only then); wait while a form field has the focus, so a filter being typed survives.
(function () {
  "use strict";
  var seconds = Number(document.body.dataset.refresh);
  if (!seconds) { return; }
  function later() {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (active && active.matches("input, select, textarea")) { later(); return; }
      window.location.reload();
    }, seconds * 1000);
  }
  later();
})();
