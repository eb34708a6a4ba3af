// Progressive enhancement only: every page works without this file.
// Adds a Show/Hide button to password fields marked data-reveal.
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[data-reveal]");
  Array.prototype.forEach.call(fields, function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal";
    button.textContent = "Show";
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-label", "Show password");
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-label", show ? "Hide password" : "Show password");
    });
    var row = input.parentNode;
    if (!row.classList.contains("password-row")) {
      row = document.createElement("div");
      row.className = "password-row";
      input.parentNode.insertBefore(row, input);
      row.appendChild(input);
    }
    row.appendChild(button);
  });
  // Print and copy buttons for recovery codes; hidden when this script
  // does not run, since they need it.
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var codes = Array.prototype.map.call(source.querySelectorAll("code"), function (c) { return c.textContent; });
      navigator.clipboard.writeText(codes.join("\n")).then(function () {
        button.textContent = "Copied";
      });
    });
  });
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
