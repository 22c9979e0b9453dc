/* Kinerja pages: the few behaviours that need script, bound from data attributes so that the
   Content-Security-Policy can forbid inline script (script-src 'self'). Every page works
   without it. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  document.querySelectorAll("[data-back]").forEach(function (el) {
    el.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
  document.querySelectorAll("[data-redirect]").forEach(function (el) {
    var target = el.getAttribute("data-redirect");
    if (target && target.charAt(0) === "/" && target.charAt(1) !== "/") {
      setTimeout(function () { window.location.replace(target); },
                 parseInt(el.getAttribute("data-after") || "8000", 10));
    }
  });
})();
