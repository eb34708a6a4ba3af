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
  // A wait after wrong codes counts down. The message already names the
  // time to try again from ("You can try again at 10:42:08 (in 5
  // seconds)"), for when this does not run; here the seconds go down, and
  // at the end it says the person can try now. Text nodes are changed, so
  // the hidden "Error:" prefix stays.
  var waitPattern = /You can try again at [0-9:]+ \(in (\d+) seconds?\)/;
  var waits = [];
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (waitPattern.test(walker.currentNode.nodeValue)) { waits.push(walker.currentNode); }
  }
  if (waits.length > 0) {
    var total = parseInt(waitPattern.exec(waits[0].nodeValue)[1], 10);
    var started = Date.now();
    var originals = waits.map(function (node) { return node.nodeValue; });
    var tick = function () {
      var left = total - Math.floor((Date.now() - started) / 1000);
      waits.forEach(function (node, i) {
        node.nodeValue = originals[i].replace(waitPattern, function (whole) {
          if (left <= 0) { return "You can try again now"; }
          return whole.replace(/\(in \d+ seconds?\)/, "(in " + left + (left === 1 ? " second)" : " seconds)"));
        });
      });
      if (left <= 0) { clearInterval(timer); }
    };
    var timer = setInterval(tick, 250);
  }
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
