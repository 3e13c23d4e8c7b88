// Live duplicate hints on the deal registration form: as the customer's name, tax id, phone or email
// is typed, the page's hints endpoint says which known customers they meet (never which partner).
(function () {
  "use strict";
  var form = document.querySelector("form[data-hints]");
  if (!form) return;
  var box = form.querySelector(".hints");
  var names = ["customer_name", "tax_id", "phone", "email"];
  var timer = null;
  var asked = 0;

  function keyLabel(key) {
    return box.getAttribute("data-key-" + key) || key;
  }

  function line(text, warning) {
    var p = document.createElement("p");
    p.className = warning ? "error" : "notice";
    p.textContent = text;
    return p;
  }

  function show(hints) {
    box.textContent = "";
    hints.forEach(function (hint) {
      var keys = hint.keys.map(keyLabel).join(", ");
      var head = box.getAttribute("data-known") + " " + keys + (hint.account_name ? " (" + hint.account_name + ")" : "");
      box.appendChild(line(head, false));
      if (hint.blocking) {
        var until = new Date(hint.protected_until).toLocaleDateString();
        box.appendChild(line(box.getAttribute("data-blocking") + " " + until, true));
      } else if (hint.in_conflict || (hint.protected_until && !hint.yours)) {
        box.appendChild(line(box.getAttribute("data-conflict"), true));
      } else if (hint.upstream_account) {
        box.appendChild(line(box.getAttribute("data-upstream"), true));
      } else if (hint.yours) {
        box.appendChild(line(box.getAttribute("data-yours"), false));
      }
    });
    box.hidden = hints.length === 0;
  }

  function ask() {
    var query = new URLSearchParams();
    names.forEach(function (name) {
      var input = form.elements[name];
      if (input && input.value.trim()) query.set(name, input.value.trim());
    });
    if (!query.toString()) {
      show([]);
      return;
    }
    var mine = ++asked;
    fetch(form.getAttribute("data-hints") + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (answer) { return answer.ok ? answer.json() : { hints: [] }; })
      .then(function (body) { if (mine === asked) show(body.hints || []); })
      .catch(function () {});
  }

  names.forEach(function (name) {
    var input = form.elements[name];
    if (!input) return;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
  });
})();
