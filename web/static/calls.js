// The calls list: "select all" ticks every call on this page.
(function () {
  var all = document.getElementById("pick-all");
  if (!all) return;
  var boxes = function () { return document.querySelectorAll('input[name="call"][form="bulk"]'); };
  all.addEventListener("change", function () {
    boxes().forEach(function (b) { b.checked = all.checked; });
  });
  document.addEventListener("change", function (e) {
    if (e.target.name !== "call") return;
    var list = Array.prototype.slice.call(boxes());
    all.checked = list.length > 0 && list.every(function (b) { return b.checked; });
  });
})();
