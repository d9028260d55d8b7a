// 聚划算价保: countdowns, the evidence-order pick list, and charts from json_script data.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  // <span data-countdown="1795000000" data-day="天" data-done="已结束">: seconds since the epoch.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var end = parseInt(el.getAttribute("data-countdown"), 10) * 1000;
      if (isNaN(end)) { return; }
      var left = Math.floor((end - now) / 1000);
      if (left <= 0) { el.textContent = el.getAttribute("data-done") || "0"; return; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = (d > 0 ? d + (el.getAttribute("data-day") || "d") + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    });
  }

  // A button with data-fill="#input" data-value="…" puts its value into the input.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill]");
    if (!button) { return; }
    var input = document.querySelector(button.getAttribute("data-fill"));
    if (input) { input.value = button.getAttribute("data-value"); input.focus(); }
  });

  // A link to a closed <details> (e.g. "新增收货地址") opens it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest('a[href^="#"]');
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  });

  // <canvas data-chart="id-of-json-script">: the JSON holds a Chart.js config.
  function charts(root) {
    if (!window.Chart) { return; }
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      canvas.dataset.drawn = "1";
      var config = JSON.parse(source.textContent);
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false }, config.options || {});
      new window.Chart(canvas, config);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { tick(); charts(); setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSwap", function (event) { tick(); charts(event.target); });
})();
