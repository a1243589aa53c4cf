// lienthong console, overview page: the throughput chart (uPlot), drawn from /console/overview/chart.
// The page's table of totals says the same in text; without JavaScript only the chart is missing.
(function () {
  "use strict";
  var PALETTE = ["#0b4f8a", "#1d6b34", "#8a5a00", "#6b2d8a", "#2d6b8a", "#8a2d5a"];
  var FAILED = "#a3211a";
  var ZONE = "Asia/Ho_Chi_Minh"; // the console shows every time in Vietnam time, 24-hour clock

  function inZone(ts) { return window.uPlot.tzDate(new Date(ts * 1e3), ZONE); }

  function draw(box, data) {
    var names = Object.keys(data.series);
    var columns = [data.times];
    var hhmm = window.uPlot.fmtDate("{HH}:{mm}");
    var full = window.uPlot.fmtDate("{DD}/{MM}/{YYYY} {HH}:{mm}");
    var series = [{ label: box.getAttribute("data-label-time") || "Time",
                    value: function (u, v) { return v == null ? "--" : full(inZone(v)); } }];
    var delivered = box.getAttribute("data-label-delivered") || "delivered";
    var failed = box.getAttribute("data-label-failed") || "failed";
    names.forEach(function (name, i) {
      columns.push(data.series[name].delivered);
      series.push({ label: name + " · " + delivered, stroke: PALETTE[i % PALETTE.length], width: 2 });
      columns.push(data.series[name].failed);
      // failures dashed as well as red: the kind of line is not told by colour alone
      series.push({ label: name + " · " + failed, stroke: FAILED, dash: [6, 4], width: 2 });
    });
    var width = Math.max(320, box.clientWidth || 800);
    box.textContent = "";
    new window.uPlot({ width: width, height: 260, series: series, tzDate: inZone,
                       axes: [{ values: function (u, splits) { return splits.map(function (v) { return hhmm(inZone(v)); }); } },
                              { label: "/ " + Math.round(data.bucket_seconds / 60) + " min" }] }, columns, box);
  }

  function load() {
    var box = document.getElementById("chart");
    if (!box || !window.uPlot) { return; }
    var hours = box.getAttribute("data-hours") || "6";
    fetch("/console/overview/chart?hours=" + encodeURIComponent(hours), { credentials: "same-origin",
                                                                           headers: { Accept: "application/json" } })
      .then(function (answer) { if (!answer.ok) { throw new Error(String(answer.status)); } return answer.json(); })
      .then(function (data) { draw(box, data); })
      .catch(function () { box.setAttribute("data-error", "chart unavailable"); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", load); } else { load(); }
  window.setInterval(load, 60000); // the chart follows the flows too, at its 5-minute resolution
})();
