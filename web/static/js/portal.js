/* Small progressive enhancements; every page works without this file.
   - Copy buttons: <button data-copy="element-id" hidden> copies that input's value (shown only with JS).
   - Read-only link fields select their whole text when focused.
   - Print buttons: <button data-print hidden> prints the page (shown only with JS). */
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      var original = button.textContent;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source) { return; }
        copyText(source.value || source.textContent).then(function () {
          button.textContent = button.getAttribute("data-copied") || original;
          setTimeout(function () { button.textContent = original; }, 2000);
        }, function () {
          source.focus();
          if (source.select) { source.select(); }
        });
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("[data-select-all]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });
})();
