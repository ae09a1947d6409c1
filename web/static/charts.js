// Draws every element with a data-figure attribute (a Plotly figure as JSON) with Plotly,
// which the page loads from the installed plotly package: no network needed.
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
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
