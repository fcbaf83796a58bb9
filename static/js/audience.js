/* Listening figures: as a story plays, tell the archive which 10-second stretches were heard, with
   navigator.sendBeacon. Counts only: no cookie, no identifier. Do Not Track and Global Privacy Control turn it off,
   and without this file (or without sendBeacon) nothing is sent and the page works the same. */
(function () {
  "use strict";

  var STRETCH_SECONDS = 10;
  var SEND_EVERY = 3; // stretches: a report about every half minute of listening

  function listeningNotWanted() {
    var dnt = navigator.doNotTrack || window.doNotTrack || navigator.msDoNotTrack;
    return navigator.globalPrivacyControl === true || dnt === "1" || dnt === "yes";
  }

  function start(root) {
    var player = root.querySelector("#player");
    var address = root.getAttribute("data-listened-url");
    var storyId = parseInt(root.getAttribute("data-story-id"), 10);
    if (!player || !address || !storyId) return;

    var heard = {}; // stretches this play has reported or will report: each counted once a play
    var waiting = []; // heard and not yet sent
    var playStarted = false; // a new play not yet reported

    function send() {
      if (!waiting.length && !playStarted) return;
      var report = { story: storyId, stretches: waiting.slice(0, 60), play: playStarted };
      // A string body goes as text/plain, which needs no preflight; the archive reads it as JSON.
      if (navigator.sendBeacon(address, JSON.stringify(report))) {
        waiting = waiting.slice(60);
        playStarted = false;
      }
    }

    player.addEventListener("play", function () {
      if (player.ended || player.currentTime === 0 || !Object.keys(heard).length) {
        if (Object.keys(heard).length) heard = {}; // played again from the start: a new play
        playStarted = true;
      }
    });
    player.addEventListener("timeupdate", function () {
      if (player.paused || player.seeking) return;
      var stretch = Math.floor(player.currentTime / STRETCH_SECONDS);
      if (isFinite(player.duration) && stretch * STRETCH_SECONDS >= player.duration) return;
      if (heard[stretch]) return;
      heard[stretch] = true;
      waiting.push(stretch);
      if (playStarted || waiting.length >= SEND_EVERY) send();
    });
    player.addEventListener("pause", send);
    player.addEventListener("ended", send);
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") send(); });
    window.addEventListener("pagehide", send);
  }

  if (listeningNotWanted() || !navigator.sendBeacon) return;
  Array.prototype.forEach.call(document.querySelectorAll("[data-listened-url]"), start);
})();
