// conftrail console: local times on hover, copy buttons, and the dashboard's live updates.
(function () {
  "use strict";

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var t = new Date(el.getAttribute("datetime"));
      if (!isNaN(t)) { el.title = t.toLocaleString() + " (your time)"; }
    });
  }

  function copyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.dataset.bound) { return; }
      button.dataset.bound = "1";
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        if (!source) { return; }
        var text = source.textContent;
        var done = function () { button.textContent = "Copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else {
          var area = document.createElement("textarea");
          area.value = text;
          document.body.appendChild(area);
          area.select();
          document.execCommand("copy");
          area.remove();
          done();
        }
      });
    });
  }

  // The dashboard's panels reload when the server says something changed (server-sent
  // events), at most twice a second.
  function live() {
    var panels = document.querySelector("[data-live]");
    if (!panels || !window.EventSource) { return; }
    var pending = null;
    var source = new EventSource(panels.dataset.live);
    var refresh = function () {
      if (pending) { return; }
      pending = setTimeout(function () {
        pending = null;
        htmx.ajax("GET", panels.dataset.panels, { target: panels, swap: "innerHTML" });
      }, 500);
    };
    source.addEventListener("change", refresh);
    source.addEventListener("lagged", refresh);
    var status = document.getElementById("live-status");
    source.onopen = function () { if (status) { status.textContent = "Live"; status.className = "state good"; } };
    source.onerror = function () { if (status) { status.textContent = "Reconnecting…"; status.className = "state quiet"; } };
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    copyButtons(document);
    live();
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    localTimes(e.target);
    copyButtons(e.target);
  });
})();
