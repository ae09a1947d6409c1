// Tells the server the browser's time zone (a cookie), so pages show times in it; reloads once
// when the page was drawn in UTC for want of it.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  var had = document.cookie.split("; ").some(function (c) { return c === "speechqa_tz=" + zone; });
  document.cookie = "speechqa_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  var shown = document.querySelector("[data-zone-source]");
  if (!had && shown && shown.getAttribute("data-zone-source") === "default" && zone !== "UTC") {
    location.reload();
  }
})();
