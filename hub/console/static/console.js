// lienthong console: the little behaviour the pages need beyond htmx. No inline scripts (the CSP forbids them).
(function () {
  "use strict";
  // A button or link with data-confirm asks first (the server asks again for what cannot be undone).
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
  // Copy buttons: data-copy="#id" copies that element's text (a key shown once).
  document.addEventListener("click", function (event) {
    var btn = event.target.closest("[data-copy]");
    if (!btn) { return; }
    var source = document.querySelector(btn.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.value || source.textContent;
    var done = function () { btn.textContent = btn.getAttribute("data-copied") || "✓"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var range = document.createRange(); range.selectNodeContents(source);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      document.execCommand("copy"); done();
    }
  });
  // "Select all" checkboxes: data-select-all="name" toggles every checkbox of that name.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) { return; }
    document.querySelectorAll('input[type=checkbox][name="' + all.getAttribute("data-select-all") + '"]')
      .forEach(function (box) { box.checked = all.checked; });
  });
  // htmx requests carry the session's CSRF token from <meta name="csrf-token">.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });
})();
