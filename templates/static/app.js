// Parley's only script: progressive touches. Every page works without it.
"use strict";
(function () {
  // Buttons with data-confirm ask before their form is sent.
  document.addEventListener("submit", function (e) {
    var b = e.submitter || e.target.querySelector("[data-confirm]");
    var msg = (b && b.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // fetch() calls from Parley's pages carry the CSRF token.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.parleyFetch = function (url, opts) {
    opts = opts || {};
    opts.headers = Object.assign({"X-CSRF-Token": meta ? meta.content : ""}, opts.headers || {});
    opts.credentials = "same-origin";
    return fetch(url, opts);
  };
  // Copy buttons (API tokens).
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (el && navigator.clipboard) navigator.clipboard.writeText(el.textContent.trim()).then(function () { b.textContent = "Copied"; });
    });
  });
  // Close the account menu when clicking elsewhere.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { if (!d.contains(e.target)) d.removeAttribute("open"); });
  });
})();
// Sign-up: preselect the browser's time zone when none was chosen.
(function () {
  var sel = document.querySelector("select[data-detect-timezone]");
  if (!sel || Array.prototype.some.call(sel.options, function (o) { return o.defaultSelected; })) return;
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (Array.prototype.some.call(sel.options, function (o) { return o.value === tz; })) sel.value = tz;
  } catch (e) { /* older browsers: UTC stays */ }
})();
