/* The transcript corrector in the admin: the recording and the segments kept in step, every change saved as it is
   made, one at a time, each against the version of the transcript this page saw. Plain JS, no build. Without it,
   the form below the corrector corrects the words. */
(function () {
  "use strict";

  var NUDGE_LIMIT = 0.1;
  var TYPING_PAUSE_MS = 700;

  function clock(seconds) {
    var tenths = Math.max(Math.round(seconds * 10), 0);
    var total = Math.floor(tenths / 10), h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60);
    var s = total % 60, mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h ? h + ":" : "") + mm + ":" + ss + "." + (tenths % 10);
  }

  function isTextField(element) {
    if (!element) return false;
    var tag = element.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable ||
      (tag === "INPUT" && !/^(button|submit|reset|checkbox|radio|range)$/i.test(element.type));
  }

  function start(root) {
    var state = JSON.parse(document.getElementById("corrector-state").textContent);
    var transcript = state.transcript;
    var speakers = state.speakers;
    var player = root.querySelector("#corrector-player");
    var list = root.querySelector("[data-corrector-segments]");
    var template = root.querySelector("[data-segment-template]");
    var status = root.querySelector("[data-corrector-status]");
    var conflict = root.querySelector("[data-corrector-conflict]");
    var changeUrl = root.getAttribute("data-change-url");
    var csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
    var queue = [];
    var sending = false;
    var stopped = false;
    var typingTimers = {};
    var playing = -1;

    root.hidden = false;
    var fallback = document.querySelector("[data-corrector-fallback]");
    if (fallback) fallback.hidden = true;

    function say(message) { status.textContent = message; }

    function segmentById(id) {
      for (var i = 0; i < transcript.segments.length; i++) if (transcript.segments[i].id === id) return transcript.segments[i];
      return null;
    }

    function itemFor(id) { return list.querySelector('[data-segment-id="' + id + '"]'); }

    function showTimes(item, segment) {
      item.querySelector("[data-clock]").textContent = clock(segment.start) + "–" + clock(segment.end);
      item.setAttribute("data-start", segment.start);
    }

    function render() {
      var focused = document.activeElement, focusId = null, focusPart = null;
      if (focused && list.contains(focused)) {
        var owner = focused.closest("[data-segment]");
        focusId = owner && parseInt(owner.getAttribute("data-segment-id"), 10);
        focusPart = focused.hasAttribute("data-text") ? "[data-text]" : focused.hasAttribute("data-merge") ? "[data-play]" : null;
      }
      list.textContent = "";
      transcript.segments.forEach(function (segment, position) {
        var item = template.content.firstElementChild.cloneNode(true);
        var number = position + 1;
        item.setAttribute("data-segment-id", segment.id);
        showTimes(item, segment);
        var text = item.querySelector("[data-text]");
        text.id = "segment-text-" + segment.id;
        text.value = segment.text;
        var label = item.querySelector("[data-text-label]");
        label.setAttribute("for", text.id);
        label.textContent = "Words of segment " + number;
        var select = item.querySelector("[data-speaker]");
        speakers.forEach(function (person) {
          var option = document.createElement("option");
          option.value = person.id;
          option.textContent = person.name;
          select.appendChild(option);
        });
        select.value = segment.speaker == null ? "" : String(segment.speaker);
        item.querySelector("[data-speaker-label]").textContent = "Speaker of segment " + number;
        item.querySelector('[data-nudge-group="start"]').setAttribute("aria-label", "Start of segment " + number);
        item.querySelector('[data-nudge-group="end"]').setAttribute("aria-label", "End of segment " + number);
        var merge = item.querySelector("[data-merge]");
        if (position === transcript.segments.length - 1) merge.hidden = true;
        merge.setAttribute("aria-label", "Merge segment " + number + " with segment " + (number + 1));
        item.querySelector("[data-split]").setAttribute("aria-label", "Split segment " + number + " at the cursor");
        item.querySelector("[data-edited]").hidden = !segment.edited;
        item.querySelector("[data-redacted]").hidden = (transcript.redacted || []).indexOf(segment.id) < 0;
        list.appendChild(item);
      });
      playing = -1;
      highlight(true);
      if (focusId != null) {
        var back = itemFor(focusId) || list.querySelector("[data-segment]");
        var part = back && back.querySelector(focusPart || "[data-play]");
        if (part) part.focus();
      }
    }

    // The last segment that has started by this time.
    function segmentAt(time) {
      var found = -1;
      for (var i = 0; i < transcript.segments.length; i++) {
        if (transcript.segments[i].start <= time + 0.001) found = i; else break;
      }
      return found;
    }

    function highlight(force) {
      var now = segmentAt(player.currentTime || 0);
      if (now === playing && !force) return;
      var items = list.querySelectorAll("[data-segment]");
      Array.prototype.forEach.call(items, function (item, i) {
        item.classList.toggle("is-playing", i === now);
        if (i === now) item.setAttribute("aria-current", "true"); else item.removeAttribute("aria-current");
      });
      playing = now;
    }

    function playFrom(position, keepPaused) {
      var segment = transcript.segments[position];
      if (!segment) return;
      player.currentTime = segment.start;
      if (!keepPaused) {
        var started = player.play();
        if (started && started.catch) started.catch(function () {});
      }
      highlight(true);
      var item = list.querySelectorAll("[data-segment]")[position];
      if (item && item.scrollIntoView) item.scrollIntoView({ block: "nearest" });
    }

    function step(by) {
      var from = playing < 0 ? (by > 0 ? -1 : 0) : playing;
      var to = Math.min(Math.max(from + by, 0), transcript.segments.length - 1);
      playFrom(to, player.paused);
    }

    function togglePlay() {
      if (player.paused) {
        var started = player.play();
        if (started && started.catch) started.catch(function () {});
      } else {
        player.pause();
      }
    }

    // Saving: one change at a time, in the order they were made.
    function send(change) {
      if (change.action === "text") {
        // A newer text for the same segment replaces one still waiting.
        queue = queue.filter(function (waiting) { return !(waiting.action === "text" && waiting.segment === change.segment); });
      }
      queue.push(change);
      pump();
    }

    function pump() {
      if (sending || stopped || !queue.length) return;
      var change = queue[0];
      var body = Object.assign({ version: transcript.version }, change);
      sending = true;
      say("Saving…");
      fetch(changeUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          return { status: response.status, answer: answer };
        });
      }).then(function (result) {
        sending = false;
        if (result.status === 200 && !(result.answer && result.answer.segments)) {
          // The sign-in page answered instead: the session ended. Keep the change to send when signed in again.
          say("Not saved: you seem to be signed out. Sign in again in another tab; your changes stay on this page " +
            "and are saved when you next make one.");
          return;
        }
        if (result.status === 200) {
          queue.shift();
          saved(change, result.answer);
        } else if (result.status === 409) {
          stopped = true;
          conflict.hidden = false;
          say("Not saved: someone else changed this transcript.");
          return;
        } else if (result.status === 400) {
          queue.shift();
          say("Not saved: " + (result.answer.detail || "this change cannot be made."));
        } else {
          say("Not saved: the server did not accept the change (" + result.status + "). Reload the page and try again.");
          stopped = true;
          return;
        }
        if (queue.length) pump(); else if (result.status === 200) say("All changes are saved.");
      }, function () {
        sending = false;
        say("Not saved: the connection failed. The change is kept and is saved when you next make one.");
      });
    }

    function saved(change, answer) {
      var structural = answer.segments.length !== transcript.segments.length;
      var before = {};
      transcript.segments.forEach(function (segment) { before[segment.id] = segment; });
      transcript.version = answer.version;
      // Keep what is typed but not sent yet: the server's text for a segment still being typed is older.
      answer.segments.forEach(function (segment) {
        var waiting = typingTimers[segment.id] || queue.some(function (c) { return c.action === "text" && c.segment === segment.id; });
        if (waiting && before[segment.id]) segment.text = before[segment.id].text;
      });
      transcript.segments = answer.segments;
      if (structural || change.action === "times") {
        if (structural) render();
        else {
          var segment = segmentById(change.segment), item = itemFor(change.segment);
          if (segment && item) showTimes(item, segment);
          highlight(true);
        }
      }
      answer.segments.forEach(function (segment) {
        var item = itemFor(segment.id);
        if (item) item.querySelector("[data-edited]").hidden = !segment.edited;
      });
    }

    function flushTyping(id) {
      if (!typingTimers[id]) return;
      clearTimeout(typingTimers[id]);
      delete typingTimers[id];
      var item = itemFor(id);
      if (item) send({ action: "text", segment: id, text: item.querySelector("[data-text]").value });
    }

    list.addEventListener("input", function (event) {
      if (!event.target.hasAttribute("data-text")) return;
      var id = parseInt(event.target.closest("[data-segment]").getAttribute("data-segment-id"), 10);
      var segment = segmentById(id);
      if (segment) segment.text = event.target.value;
      if (!stopped) say("Changes not saved yet…");
      clearTimeout(typingTimers[id]);
      typingTimers[id] = setTimeout(function () { flushTyping(id); }, TYPING_PAUSE_MS);
    });

    list.addEventListener("focusout", function (event) {
      if (!event.target.hasAttribute("data-text")) return;
      flushTyping(parseInt(event.target.closest("[data-segment]").getAttribute("data-segment-id"), 10));
    });

    list.addEventListener("change", function (event) {
      if (!event.target.hasAttribute("data-speaker")) return;
      var id = parseInt(event.target.closest("[data-segment]").getAttribute("data-segment-id"), 10);
      var value = event.target.value;
      send({ action: "speaker", segment: id, speaker: value === "" ? null : parseInt(value, 10) });
    });

    list.addEventListener("click", function (event) {
      var item = event.target.closest("[data-segment]");
      if (!item) return;
      var id = parseInt(item.getAttribute("data-segment-id"), 10);
      var position = transcript.segments.indexOf(segmentById(id));
      var button = event.target.closest("button");
      if (button && button.hasAttribute("data-nudge")) {
        var segment = segmentById(id);
        var by = Math.max(Math.min(parseFloat(button.getAttribute("data-by")), NUDGE_LIMIT), -NUDGE_LIMIT);
        var startAt = segment.start, endAt = segment.end;
        if (button.getAttribute("data-nudge") === "start") startAt = Math.max(Math.round((startAt + by) * 1000) / 1000, 0);
        else endAt = Math.round((endAt + by) * 1000) / 1000;
        flushTyping(id);
        send({ action: "times", segment: id, start: startAt, end: endAt });
      } else if (button && button.hasAttribute("data-merge")) {
        flushTyping(id);
        var next = transcript.segments[position + 1];
        if (next) flushTyping(next.id);
        send({ action: "merge", segment: id });
      } else if (button && button.hasAttribute("data-split")) {
        var text = item.querySelector("[data-text]");
        clearTimeout(typingTimers[id]);
        delete typingTimers[id];
        send({ action: "split", segment: id, at: text.selectionStart, text: text.value });
      } else if (button && button.hasAttribute("data-play")) {
        playFrom(position);
      } else if (!event.target.closest("textarea, select, label, button, input")) {
        playFrom(position);  // a click on the segment itself, outside its controls
      }
    });

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey) return;
      // Alt works everywhere; the letter alone only outside a text field, so typing is never taken for a shortcut.
      if (!event.altKey && isTextField(event.target)) return;
      var key = event.code || "";
      if (key === "KeyK") togglePlay();
      else if (key === "KeyJ") step(-1);
      else if (key === "KeyL") step(1);
      else return;
      event.preventDefault();
    });

    player.addEventListener("timeupdate", function () { highlight(false); });
    player.addEventListener("seeked", function () { highlight(false); });

    window.addEventListener("beforeunload", function (event) {
      if (queue.length || sending || Object.keys(typingTimers).length) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-corrector]");
    if (root && document.getElementById("corrector-state")) start(root);
  });
})();
