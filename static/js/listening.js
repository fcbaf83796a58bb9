/* Listening: the story page's player and interactive transcript, and a collection's playlist. Plain JS, no build.
   Without this file the page still works: the transcript is there, and its times are ?t= links. */
(function () {
  "use strict";

  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function clock(seconds) {
    var total = Math.max(Math.floor(seconds), 0);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // Seek once the browser knows the duration; setting currentTime earlier is ignored by some players.
  function seek(player, seconds, play) {
    var go = function () {
      player.currentTime = seconds;
      if (play) {
        var started = player.play();
        if (started && started.catch) started.catch(function () {});
      }
    };
    if (player.readyState >= 1) go();
    else player.addEventListener("loadedmetadata", go, { once: true });
  }

  function startStory(root) {
    var player = root.querySelector("#player");
    if (!player) return;
    var lines = Array.prototype.slice.call(root.querySelectorAll("[data-lines] > li"));
    var starts = lines.map(function (line) { return parseFloat(line.getAttribute("data-start")); });
    var box = root.querySelector("[data-lines]");
    var followButton = root.querySelector("[data-follow]");
    var current = -1;
    var following = true;
    var resumeTimer = null;

    // The last line that has started by this time (binary search: a long recording has thousands of lines).
    function lineAt(time) {
      var low = 0, high = starts.length - 1, found = -1;
      while (low <= high) {
        var mid = (low + high) >> 1;
        if (starts[mid] <= time + 0.05) { found = mid; low = mid + 1; } else { high = mid - 1; }
      }
      return found;
    }

    function scrollToLine(index) {
      if (!box || index < 0) return;
      var line = lines[index];
      var top = line.offsetTop - box.clientHeight / 3;
      box.scrollTo({ top: Math.max(top, 0), behavior: reducedMotion ? "auto" : "smooth" });
    }

    function highlight(index) {
      if (index === current) return;
      if (current >= 0) { lines[current].classList.remove("is-current"); lines[current].removeAttribute("aria-current"); }
      current = index;
      if (index < 0) return;
      lines[index].classList.add("is-current");
      lines[index].setAttribute("aria-current", "true");
      if (following) scrollToLine(index);
    }

    // The reader scrolling the transcript pauses auto-scroll; it comes back after a quiet spell or on request.
    function readerScrolled() {
      following = false;
      if (followButton) followButton.hidden = false;
      clearTimeout(resumeTimer);
      resumeTimer = setTimeout(follow, 8000);
    }
    function follow() {
      following = true;
      clearTimeout(resumeTimer);
      if (followButton) followButton.hidden = true;
      scrollToLine(current);
    }
    if (box) {
      ["wheel", "touchmove"].forEach(function (name) { box.addEventListener(name, readerScrolled, { passive: true }); });
      box.addEventListener("keydown", function (event) {
        if (["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "].indexOf(event.key) >= 0) readerScrolled();
      });
      box.addEventListener("pointerdown", function (event) { if (event.target === box) readerScrolled(); });
      box.addEventListener("click", function (event) {
        var line = event.target.closest("li");
        if (!line || !box.contains(line)) return;
        if (event.target.closest("a") && (event.metaKey || event.ctrlKey || event.shiftKey)) return; // open elsewhere
        event.preventDefault();
        seek(player, parseFloat(line.getAttribute("data-start")), true);
        highlight(lines.indexOf(line));
        follow();
      });
    }
    if (followButton) followButton.addEventListener("click", follow);
    player.addEventListener("timeupdate", function () { highlight(lineAt(player.currentTime)); });
    player.addEventListener("seeked", function () { highlight(lineAt(player.currentTime)); });

    // "Copy link to this moment": the page's own address with ?t= whole seconds.
    var tools = root.querySelector("[data-moment-tools]");
    var status = root.querySelector("[data-moment-status]");
    if (tools) {
      tools.hidden = false;
      root.querySelector("[data-copy-moment]").addEventListener("click", function () {
        var seconds = Math.floor(player.currentTime || 0);
        var link = location.origin + root.getAttribute("data-story-url") + "?t=" + seconds;
        var say = function (words) { status.textContent = words; };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(link).then(
            function () { say("Link to " + clock(seconds) + " copied: " + link); },
            function () { say("Copy this link to " + clock(seconds) + ": " + link); }
          );
        } else {
          say("Copy this link to " + clock(seconds) + ": " + link);
        }
        status.setAttribute("data-link", link);
      });
    }

    // Opened from a ?t= link: start there. Browsers may refuse to play before a click; then it waits at that moment.
    var start = root.getAttribute("data-start");
    if (start !== null) {
      var seconds = parseFloat(start);
      highlight(lineAt(seconds));
      seek(player, seconds, true);
      var note = root.querySelector("[data-listen-from]");
      player.addEventListener("playing", function () { if (note) note.hidden = true; }, { once: true });
    }

    // A clip (?t=135,170) stops at its end, once; seeking outside it, or "Play the whole story", lets the story run on.
    var clipEnd = root.getAttribute("data-end") !== null ? parseFloat(root.getAttribute("data-end")) : null;
    var clipStart = start !== null ? parseFloat(start) : 0;
    var clipNotice = root.querySelector("[data-clip-notice]");
    function endClip() { clipEnd = null; }
    if (clipEnd !== null) {
      var stopAtEnd = function () {
        if (clipEnd === null || player.currentTime < clipEnd) return;
        player.pause();
        player.currentTime = clipEnd;
        endClip();
        if (clipNotice) clipNotice.classList.add("is-ended");
      };
      player.addEventListener("timeupdate", stopAtEnd);
      player.addEventListener("pause", stopAtEnd);
      player.addEventListener("seeking", function () {
        if (clipEnd !== null && (player.currentTime > clipEnd + 0.5 || player.currentTime < clipStart - 0.5)) endClip();
      });
    }
    var whole = root.querySelector("[data-play-whole]");
    if (whole) {
      whole.addEventListener("click", function (event) {
        event.preventDefault();
        endClip();
        // The media fragment (#t=start,end) would stop the browser at the clip's end too: load the recording without it.
        var source = player.querySelector("source");
        if (source && source.src.indexOf("#") >= 0) { source.src = source.src.split("#")[0]; player.load(); }
        if (clipNotice) clipNotice.hidden = true;
        if (window.history && history.replaceState) history.replaceState(null, "", location.pathname + location.hash);
        seek(player, 0, true);
        player.focus();
      });
    }

    startChapters(player, follow);
    startSpeed(root, player);
    startSharing(root, player);

    startFinding(root, lines, function (index) {
      following = false;
      if (followButton) followButton.hidden = false;
      scrollToLine(index);
    });
  }

  // Chapters: each link plays the recording from the chapter's start (without this file it is a ?t= link), and the
  // chapter being heard is marked.
  function startChapters(player, follow) {
    var box = document.querySelector("[data-chapters]");
    if (!box) return;
    var items = Array.prototype.slice.call(box.querySelectorAll("li[data-start]"));
    var current = null;
    box.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-seek]");
      if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return; // open elsewhere
      event.preventDefault();
      seek(player, parseFloat(link.getAttribute("data-seek")), true);
      follow();
    });
    function mark() {
      var time = player.currentTime, found = null;
      items.forEach(function (item) {
        var end = item.getAttribute("data-end");
        if (parseFloat(item.getAttribute("data-start")) <= time + 0.05 && (end === null || time < parseFloat(end))) found = item;
      });
      if (found === current) return;
      if (current) { current.classList.remove("is-current"); current.removeAttribute("aria-current"); }
      current = found;
      if (current) { current.classList.add("is-current"); current.setAttribute("aria-current", "true"); }
    }
    player.addEventListener("timeupdate", mark);
    player.addEventListener("seeked", mark);
  }

  // The speed control: 0.75x to 2x, kept while the browser tab is open (a new recording keeps the chosen speed).
  function startSpeed(root, player) {
    var control = root.querySelector("[data-speed]");
    if (!control) return;
    control.hidden = false;
    var select = control.querySelector("select");
    var apply = function () {
      var rate = parseFloat(select.value) || 1;
      player.playbackRate = rate;
      player.defaultPlaybackRate = rate;
    };
    select.addEventListener("change", apply);
    player.addEventListener("loadedmetadata", apply);
    apply();
  }

  // Read 135, 2:15 or 1:02:15 as seconds; NaN for anything else.
  function seconds(text) {
    text = (text || "").trim();
    if (!/^\d+(:\d{1,2}){0,2}$/.test(text)) return NaN;
    return text.split(":").reduce(function (total, part) { return total * 60 + parseInt(part, 10); }, 0);
  }

  function escapeAttribute(text) {
    return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // "Share this moment": the link, citation and embed code follow the stretch the visitor chooses.
  function startSharing(root, player) {
    var box = document.querySelector("[data-share-moment]");
    if (!box) return;
    var times = box.querySelector("[data-share-times]");
    var startInput = box.querySelector("[data-share-start]");
    var endInput = box.querySelector("[data-share-end]");
    var problem = box.querySelector("[data-share-problem]");
    var status = box.querySelector("[data-share-status]");
    var address = box.getAttribute("data-address");
    var duration = function () { return isFinite(player.duration) ? player.duration : Infinity; };
    times.hidden = false;

    function update() {
      var from = startInput.value.trim() ? seconds(startInput.value) : 0;
      var to = endInput.value.trim() ? seconds(endInput.value) : null;
      var trouble = "";
      if (isNaN(from)) { trouble = "Write the start as minutes:seconds, like 02:15."; from = 0; }
      else if (from >= duration()) { trouble = "The start is after the recording ends (" + clock(duration()) + ")."; from = 0; }
      if (to !== null && isNaN(to)) { trouble = trouble || "Write the end as minutes:seconds, like 02:50, or leave it empty."; to = null; }
      else if (to !== null && to <= from) { trouble = trouble || "The end must come after the start; the link plays on from the start."; to = null; }
      else if (to !== null && to > duration()) { to = Math.ceil(duration()); }
      problem.textContent = trouble;
      var parameter = to !== null ? from + "," + to : (from ? String(from) : "");
      var query = parameter ? "?t=" + parameter : "";
      var range = to !== null ? clock(from) + "\u2013" + clock(to) : (from ? clock(from) : "");
      var link = address + query;
      box.querySelector("[data-share-link]").value = link;
      box.querySelector("[data-share-citation]").value =
        box.getAttribute("data-citation-lead") + (range ? ", " + range : "") + ". " + link + ".";
      box.querySelector("[data-share-embed]").value =
        '<iframe src="' + escapeAttribute(box.getAttribute("data-embed-address") + query) + '" title="' +
        escapeAttribute(box.getAttribute("data-title") + " (Story Archive)") +
        '" width="560" height="420" allow="autoplay; fullscreen" loading="lazy" style="border:0;max-width:100%"></iframe>';
      var label = box.querySelector('label[for="share-link"]');
      if (label) label.textContent = range ? "Link to " + range : "Link to the whole story";
    }

    startInput.addEventListener("input", update);
    endInput.addEventListener("input", update);
    Array.prototype.forEach.call(box.querySelectorAll("[data-share-now]"), function (button) {
      button.addEventListener("click", function () {
        var input = button.getAttribute("data-share-now") === "start" ? startInput : endInput;
        input.value = clock(Math.floor(player.currentTime || 0));
        update();
      });
    });
    Array.prototype.forEach.call(box.querySelectorAll("[data-copy]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-copy"));
        var done = function () { status.textContent = "Copied."; };
        var manual = function () { field.select(); status.textContent = "Selected: copy it with your device's Copy."; };
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(field.value).then(done, manual);
        else manual();
      });
    });
  }

  // Find in the transcript: marks every match, and Next / Previous walk through them.
  function startFinding(root, lines, show) {
    var form = root.querySelector("[data-transcript-search]");
    if (!form || !lines.length) return;
    form.hidden = false;
    var input = form.querySelector("[data-find]");
    var status = form.querySelector("[data-find-status]");
    var texts = lines.map(function (line) { return line.lastChild; }); // the text node after the time link
    var matches = [];
    var at = -1;

    function clear() {
      Array.prototype.forEach.call(root.querySelectorAll("[data-lines] mark"), function (mark) {
        mark.replaceWith(document.createTextNode(mark.textContent));
      });
      lines.forEach(function (line) { line.normalize(); });
      texts = lines.map(function (line) { return line.lastChild; });
      matches = [];
      at = -1;
    }

    function mark(words) {
      clear();
      if (!words) { status.textContent = ""; return; }
      var needle = words.toLocaleLowerCase();
      lines.forEach(function (line, index) {
        var node = texts[index];
        if (!node || node.nodeType !== 3) return;
        var text = node.nodeValue, lower = text.toLocaleLowerCase(), from = 0, found;
        if (lower.indexOf(needle) < 0) return;
        var pieces = document.createDocumentFragment();
        while ((found = lower.indexOf(needle, from)) >= 0) {
          pieces.appendChild(document.createTextNode(text.slice(from, found)));
          var hit = document.createElement("mark");
          hit.textContent = text.slice(found, found + needle.length);
          pieces.appendChild(hit);
          matches.push({ mark: hit, line: index });
          from = found + needle.length;
        }
        pieces.appendChild(document.createTextNode(text.slice(from)));
        line.replaceChild(pieces, node);
      });
      status.textContent = matches.length ? matches.length + " matches" : "No matches for “" + words + "”";
    }

    function step(direction) {
      var words = input.value.trim();
      if (words !== input.getAttribute("data-marked")) { mark(words); input.setAttribute("data-marked", words); }
      if (!matches.length) return;
      if (at >= 0) matches[at].mark.classList.remove("is-match");
      at = (at + direction + matches.length) % matches.length;
      matches[at].mark.classList.add("is-match");
      show(matches[at].line);
      status.textContent = "Match " + (at + 1) + " of " + matches.length + ", at " + clock(parseFloat(lines[matches[at].line].getAttribute("data-start")));
    }

    input.addEventListener("input", function () { var words = input.value.trim(); mark(words); input.setAttribute("data-marked", words); });
    form.addEventListener("submit", function (event) { event.preventDefault(); step(1); });
    form.querySelector("[data-find-previous]").addEventListener("click", function () { step(-1); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.shiftKey) { event.preventDefault(); step(-1); }
    });
  }

  // A collection plays its stories in order, each from its entry's start time, with the curator's note shown.
  function startPlaylist(root) {
    var entries = Array.prototype.slice.call(document.querySelectorAll("[data-entry][data-src]"));
    if (!entries.length) return;
    root.hidden = false;
    var stage = root.querySelector("[data-playlist-stage]");
    var now = root.querySelector("[data-now-playing]");
    var player = null;
    var playing = -1;
    var clipEnd = null;

    function next() {
      if (playing + 1 < entries.length) load(playing + 1, true);
    }

    function load(index, play) {
      var entry = entries[index];
      var kind = entry.getAttribute("data-video") ? "video" : "audio";
      if (!player || player.tagName.toLowerCase() !== kind) {
        if (player) player.remove();
        player = document.createElement(kind);
        player.id = "player";
        player.className = "player";
        player.controls = true;
        player.preload = "metadata";
        player.addEventListener("ended", next);
        // An entry with an end time is a clip: at its end the collection moves on, as at the end of a story.
        player.addEventListener("timeupdate", function () {
          if (clipEnd !== null && player.currentTime >= clipEnd) { clipEnd = null; player.pause(); next(); }
        });
        stage.appendChild(player);
      }
      player.pause();
      player.querySelectorAll("track").forEach(function (track) { track.remove(); });
      player.src = entry.getAttribute("data-src");
      var captions = entry.getAttribute("data-captions");
      if (captions) {
        var track = document.createElement("track");
        track.kind = "captions";
        track.src = captions;
        track.srclang = entry.getAttribute("data-language") || "en";
        track.label = "Captions";
        track.default = true;
        player.appendChild(track);
      }
      if (playing >= 0) entries[playing].classList.remove("is-playing");
      playing = index;
      entry.classList.add("is-playing");
      var start = parseFloat(entry.getAttribute("data-start")) || 0;
      var end = entry.getAttribute("data-end");
      clipEnd = end !== null ? parseFloat(end) : null;
      var note = entry.querySelector("[data-note]");
      var stretch = clipEnd !== null ? ", " + clock(start) + "\u2013" + clock(clipEnd) : (start ? ", from " + clock(start) : "");
      now.textContent = "Now playing " + (index + 1) + " of " + entries.length + ": " + entry.getAttribute("data-title") +
        stretch + (note ? ". " + note.textContent : "");
      player.setAttribute("aria-label", entry.getAttribute("data-title"));
      seek(player, start, play);
    }

    load(0, false);
    root.querySelector("[data-play-collection]").addEventListener("click", function () { load(0, true); });
    entries.forEach(function (entry, index) {
      var button = entry.querySelector("[data-play-entry]");
      if (!button) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        load(index, true);
        root.scrollIntoView({ behavior: reducedMotion ? "auto" : "smooth", block: "start" });
        player.focus();
      });
    });
  }

  var story = document.querySelector("[data-listening]");
  // Behind content notes the story waits, and a ?t= link does not start it, until the visitor continues.
  var behindNotes = document.querySelector("[data-story-content][hidden]");
  if (story && behindNotes) {
    document.addEventListener("storyarchive:continued", function () { startStory(story); }, { once: true });
  } else if (story) {
    startStory(story);
  }
  var playlist = document.querySelector("[data-playlist]");
  if (playlist) startPlaylist(playlist);
})();
