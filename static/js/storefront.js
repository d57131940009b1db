// Small behaviours htmx does not cover: the Verify Authorization dialog, copy buttons, one-click submits.
(function () {
  "use strict";
  var lastOpener = null;

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.querySelector(opener.getAttribute("data-open-dialog"));
      if (dialog && !dialog.open) {
        lastOpener = opener;
        dialog.showModal();
        var input = dialog.querySelector("input:not([type=hidden])");
        if (input) { input.focus(); input.select(); }
      }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var d = document.querySelector(closer.getAttribute("data-close-dialog"));
      if (d) { d.close(); }
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var field = document.querySelector(copy.getAttribute("data-copy"));
      if (!field) { return; }
      field.select();
      var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy link"; }, 2000); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    }
  });

  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG" && lastOpener && document.body.contains(lastOpener)) {
      lastOpener.focus();
    }
  }, true);

  document.addEventListener("htmx:afterSettle", function () {
    var result = document.getElementById("verify-result");
    var dialog = document.getElementById("verify-dialog");
    if (result && dialog && dialog.open && result.getAttribute("data-verified") === "true") {
      setTimeout(function () {
        dialog.close();
        var button = document.getElementById("checkout-button");
        if (button) { button.focus(); }
      }, 600);
    }
  });

  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[data-once]");
    if (button) {
      if (button.dataset.submitted) { event.preventDefault(); return; }
      button.dataset.submitted = "1";
      button.setAttribute("aria-busy", "true");
    }
  });
})();
