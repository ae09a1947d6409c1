// The call page: the transcript follows playback; words, hits, matches and timeline marks
// seek the player; space plays or pauses and the arrow keys seek 5 s.
(function () {
  var player = document.getElementById("player");
  var words = Array.prototype.slice.call(document.querySelectorAll(".w"));
  var current = null;

  function seek(seconds) {
    if (!player) { return; }
    player.currentTime = Math.max(0, seconds);
    player.dataset.sought = String(seconds);
  }

  document.addEventListener("click", function (event) {
    var comment = event.target.closest(".comment-on");
    if (comment) {
      var box = document.getElementById("comment-utterance");
      if (box) { box.value = comment.dataset.utterance; box.form.querySelector("textarea").focus(); }
      return;
    }
    var target = event.target.closest("[data-seek], .w");
    if (!target) { return; }
    var at = parseFloat(target.dataset.seek !== undefined ? target.dataset.seek : target.dataset.start);
    if (!isNaN(at)) { seek(at); }
  });

  if (player) {
    player.addEventListener("timeupdate", function () {
      var t = player.currentTime, found = null;
      for (var i = 0; i < words.length; i++) {
        var w = words[i];
        if (parseFloat(w.dataset.start) <= t && t < parseFloat(w.dataset.end)) { found = w; break; }
      }
      if (found !== current) {
        if (current) { current.classList.remove("now"); }
        if (found) {
          found.classList.add("now");
          var box = found.closest(".transcript");
          if (box && !player.paused) { found.scrollIntoView({ block: "nearest" }); }
        }
        current = found;
      }
    });
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (["input", "textarea", "select", "button", "audio"].indexOf(tag) >= 0) { return; }
      if (event.code === "Space") { event.preventDefault(); if (player.paused) { player.play(); } else { player.pause(); } }
      else if (event.key === "ArrowRight") { event.preventDefault(); seek(player.currentTime + 5); }
      else if (event.key === "ArrowLeft") { event.preventDefault(); seek(player.currentTime - 5); }
    });
  }

  // A link to a moment (#t=SECONDS, from the KPI journal or a clip) starts the player there.
  var moment = /^#t=([0-9.]+)/.exec(window.location.hash);
  if (moment && player) {
    var at = parseFloat(moment[1]);
    if (player.readyState >= 1) { seek(at); } else { player.addEventListener("loadedmetadata", function () { seek(at); }, { once: true }); }
  }

  // Search matches: the words of the query found in the transcript, each a seek button.
  var box = document.querySelector(".transcript");
  var q = box ? (box.dataset.q || "").toLowerCase() : "";
  var terms = q.replace(/["*]/g, " ").split(/\s+/).filter(function (t) { return t.length > 1; });
  if (terms.length) {
    var list = document.querySelector("#matches ul");
    words.forEach(function (w) {
      var text = w.textContent.toLowerCase().replace(/[^a-z0-9']/g, "");
      if (terms.some(function (t) { return text.indexOf(t) === 0; })) {
        w.classList.add("match");
        if (list) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button"; b.className = "seek match-seek"; b.dataset.seek = w.dataset.start;
          var s = parseFloat(w.dataset.start);
          b.textContent = Math.floor(s / 60) + ":" + ("0" + Math.floor(s % 60)).slice(-2);
          li.appendChild(b);
          li.appendChild(document.createTextNode(" " + w.closest(".utt").querySelector("p").textContent.trim().slice(0, 90)));
          list.appendChild(li);
        }
      }
    });
  }
})();
