// Draws every element with a data-figure attribute (a Plotly figure as JSON) with Plotly, served
// from the installed plotly package (no network needed) and loaded only when the page has a chart.
(function () {
  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var figure = JSON.parse(el.dataset.figure);
      var layout = Object.assign({ autosize: true, font: { size: 12 }, showlegend: true,
        legend: { orientation: "h" } }, figure.layout || {});
      Plotly.newPlot(el, figure.data, layout, { displayModeBar: false, responsive: true });
      el.dataset.drawn = "yes";
      if (el.dataset.links) {  // a click on a point opens the calls behind it
        el.on("plotly_click", function (event) {
          var point = event.points[0];
          var links = JSON.parse(el.dataset.links);
          var url = (links[point.curveNumber] || {})[point.pointIndex];
          if (url) { window.location = url; }
        });
      }
    });
  }
  function start() {
    if (!document.querySelector("[data-figure]")) { return; }
    if (window.Plotly) { draw(); return; }
    var script = document.createElement("script");
    script.src = document.querySelector("meta[name=plotly-src]").content;
    script.onload = draw;
    document.head.appendChild(script);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
