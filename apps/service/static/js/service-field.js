// Field steps on a phone: the location on check-in (only when the person allows it, and never holding
// the check-in up for long) and the customer's signature drawn on a canvas, sent as a PNG file.
(function () {
  "use strict";
  var LOCATION_WAIT_MS = 8000;

  function checkIn(form) {
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent || !navigator.geolocation) { return; }
      event.preventDefault();
      var send = function () { if (!sent) { sent = true; form.submit(); } };
      var timer = setTimeout(send, LOCATION_WAIT_MS + 500);
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.latitude.value = position.coords.latitude.toFixed(6);
        form.elements.longitude.value = position.coords.longitude.toFixed(6);
        form.elements.accuracy_m.value = Math.round(position.coords.accuracy);
        clearTimeout(timer);
        send();
      }, function () { clearTimeout(timer); send(); }, { enableHighAccuracy: true, timeout: LOCATION_WAIT_MS, maximumAge: 60000 });
    });
  }

  function signaturePad(form) {
    var canvas = form.querySelector("canvas");
    var input = form.querySelector("input[type=file]");
    var context = canvas.getContext("2d");
    var drawing = false, drawn = false;
    context.lineWidth = 3; context.lineCap = "round"; context.lineJoin = "round"; context.strokeStyle = "#111";
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true; canvas.setPointerCapture(event.pointerId);
      var p = point(event); context.beginPath(); context.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event); context.lineTo(p[0], p[1]); context.stroke(); drawn = true;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    form.querySelector("[data-clear]").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height); drawn = false;
    });
    form.addEventListener("submit", function (event) {
      if (input.files.length) { return; }
      event.preventDefault();
      if (!drawn) { canvas.focus(); return; }
      canvas.toBlob(function (blob) {
        var files = new DataTransfer();
        files.items.add(new File([blob], "signature.png", { type: "image/png" }));
        input.files = files.files;
        form.submit();
      }, "image/png");
    });
  }

  document.querySelectorAll("form[data-check-in]").forEach(checkIn);
  document.querySelectorAll("form[data-signature]").forEach(signaturePad);
})();
