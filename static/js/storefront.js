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
      var label = copy.dataset.label || (copy.dataset.label = copy.textContent);
      var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = label; }, 2000); };
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

  // A check answered while the buyer is in the Verify dialog (a debounced domain check, the box) must not replace
  // the open dialog: it would close under them and lose what they typed. Same authorization, same dialog: keep it.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "verify-dialog" || !target.open) { return; }
    var incoming = event.detail.fragment && event.detail.fragment.querySelector("#verify-form");
    var current = target.querySelector("#verify-form");
    if (incoming && current && incoming.getAttribute("action") === current.getAttribute("action")) {
      event.detail.shouldSwap = false;
    }
  });

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

  // GDAP request form: a role template with Global Administrator cannot be auto-extended (Microsoft's rule).
  var gdapGlobalAdmin = document.getElementById("gdap-global-admin");
  var gdapRoles = document.getElementById("id_role_template");
  var gdapAutoExtend = document.getElementById("id_auto_extend");
  if (gdapGlobalAdmin && gdapRoles && gdapAutoExtend) {
    var withGlobalAdmin = JSON.parse(gdapGlobalAdmin.textContent);
    var gdapSync = function () {
      var blocked = !!withGlobalAdmin[gdapRoles.value];
      gdapAutoExtend.disabled = blocked;
      if (blocked) { gdapAutoExtend.checked = false; }
    };
    gdapRoles.addEventListener("change", gdapSync);
    gdapSync();
  }

  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[data-once]");
    if (button) {
      if (button.dataset.submitted) { event.preventDefault(); return; }
      button.dataset.submitted = "1";
      button.setAttribute("aria-busy", "true");
    }
  });
})();
