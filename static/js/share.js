/* The share form, made kinder where the browser allows: record in the page, and send large files in pieces that
   survive a dropped connection. Without this script the form still works: the file goes with the form. */
(function () {
  "use strict";

  var form = document.getElementById("share-form");
  if (!form || !window.fetch || !window.Blob) return;

  var uploadUrl = form.dataset.uploadUrl;
  var chunkBytes = parseInt(form.dataset.chunkBytes, 10) || 4 * 1024 * 1024;
  var fileInput = form.querySelector('input[type="file"][name="recording"]');
  var uploadIdInput = form.querySelector('input[name="upload_id"]');
  var progress = form.querySelector("[data-upload-progress]");
  var bar = progress && progress.querySelector("progress");
  var statusLine = form.querySelector("[data-upload-status]");
  var submit = form.querySelector('button[type="submit"]');
  var csrf = (form.querySelector('input[name="csrfmiddlewaretoken"]') || {}).value;
  var busy = false;

  function say(text) {
    if (statusLine) statusLine.textContent = text;
  }

  var summary = form.querySelector("[data-upload-summary]");

  function sizeText(bytes) {
    if (bytes >= 1024 * 1024 * 1024) return (bytes / (1024 * 1024 * 1024)).toFixed(1) + " GB";
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    return (bytes / 1024).toFixed(1) + " KB";
  }

  function durationText(seconds) {
    var whole = Math.round(seconds);
    return Math.floor(whole / 60) + " min " + String(whole % 60).padStart(2, "0") + " s";
  }

  function showSummary(file, seconds) {
    // Say plainly what was uploaded, with a player to check it is the right recording.
    if (!summary) return;
    summary.querySelector("[data-upload-name]").textContent = file.name;
    summary.querySelector("[data-upload-size]").textContent = sizeText(file.size);
    var player = summary.querySelector("[data-upload-player]");
    var duration = summary.querySelector("[data-upload-duration]");
    duration.textContent = seconds ? ", " + durationText(seconds) : "";
    if (player.dataset.objectUrl) URL.revokeObjectURL(player.dataset.objectUrl);
    player.dataset.objectUrl = URL.createObjectURL(file);
    player.src = player.dataset.objectUrl;
    if (!seconds) {
      // The archive did not say (a resumed upload): the browser's own reading, when it has one.
      player.addEventListener("loadedmetadata", function () {
        if (isFinite(player.duration) && player.duration > 0) duration.textContent = ", " + durationText(player.duration);
      }, { once: true });
    }
    summary.hidden = false;
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function remembered(file) {
    // The same file chosen again after a reload picks up where it stopped.
    return "story-upload:" + uploadUrl + ":" + file.name + ":" + file.size + ":" + (file.lastModified || 0);
  }

  function json(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      body.status = response.status;
      return body;
    });
  }

  function startUpload(file) {
    var known = localStorage.getItem(remembered(file));
    var ask = known
      ? fetch(known, { method: "GET", credentials: "same-origin" }).then(json)
      : Promise.resolve({ status: 404 });
    return ask.then(function (where) {
      if (where.status === 200) return where;
      return fetch(uploadUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": csrf,
          "Upload-Length": String(file.size),
          "Upload-Filename": encodeURIComponent(file.name || "recording").slice(0, 200),
        },
      }).then(json).then(function (created) {
        if (created.status !== 201) throw new Error(created.error || "The upload could not start.");
        localStorage.setItem(remembered(file), created.url);
        return created;
      });
    });
  }

  function sendPieces(file, upload) {
    var offset = upload.offset || 0;
    var failures = 0;

    function next() {
      if (upload.complete || offset >= file.size) return Promise.resolve(upload);
      var piece = file.slice(offset, Math.min(offset + chunkBytes, file.size));
      return fetch(upload.url, {
        method: "PATCH",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": csrf,
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        body: piece,
      }).then(json).then(function (answer) {
        if (answer.status === 200 || answer.status === 409) {
          failures = 0;
          offset = answer.offset;
          upload.complete = !!answer.complete;
          if (answer.duration) upload.duration = answer.duration;
          if (bar) bar.value = Math.floor((offset / file.size) * 100);
          say(upload.complete ? "Your recording is safely uploaded." :
            "Uploading… " + Math.floor((offset / file.size) * 100) + "%");
          // 409: another request for this piece is still running; give it a moment before asking again.
          return answer.status === 409 ? wait(1000).then(next) : next();
        }
        throw Object.assign(new Error(answer.error || "The upload stopped."), { final: answer.status !== 429 });
      }).catch(function (error) {
        if (error.final) throw error;
        // A dropped connection: ask where the archive got to, then carry on from there.
        failures += 1;
        if (failures > 8) throw new Error("The connection keeps dropping. Please try again when it is steadier.");
        say("The connection dropped. Trying again…");
        return wait(Math.min(30000, 1000 * Math.pow(2, failures))).then(function () {
          return fetch(upload.url, { method: "GET", credentials: "same-origin" }).then(json).then(function (where) {
            if (where.status === 200) { offset = where.offset; upload.complete = !!where.complete; }
            return next();
          }, next);
        });
      });
    }
    return next();
  }

  function upload(file, whenDone) {
    busy = true;
    if (summary) summary.hidden = true;
    if (submit) submit.disabled = true;
    if (progress) progress.hidden = false;
    say("Starting the upload…");
    return startUpload(file)
      .then(function (started) { return sendPieces(file, started); })
      .then(function (done) {
        uploadIdInput.value = done.id;
        localStorage.removeItem(remembered(file));
        // The file is already in the archive: do not send it a second time with the form.
        if (fileInput) { fileInput.value = ""; }
        showSummary(file, done.duration);
        if (whenDone) return whenDone();
      })
      .catch(function (error) {
        uploadIdInput.value = "";
        if (fileInput) fileInput.value = "";
        localStorage.removeItem(remembered(file));
        say(error.message);
      })
      .then(function () {
        busy = false;
        if (submit) submit.disabled = false;
      });
  }

  if (fileInput) {
    fileInput.addEventListener("change", function () {
      if (fileInput.files && fileInput.files[0]) upload(fileInput.files[0]);
    });
  }

  form.addEventListener("submit", function (event) {
    if (busy) {
      event.preventDefault();
      say("Please wait until the upload has finished.");
    }
  });

  // Guardian fields only for someone who may be under 18, by the same test the archive applies.
  var minorYears = parseInt(form.dataset.minorYears, 10);
  var recordedOn = form.querySelector('input[name="recorded_on"]');

  function recordedYear() {
    var year = recordedOn && parseInt((recordedOn.value || "").slice(0, 4), 10);
    return year || new Date().getFullYear();
  }

  function showGuardians() {
    form.querySelectorAll(".share-person").forEach(function (person) {
      var guardian = person.querySelector("[data-guardian]");
      if (!guardian) return;
      var born = parseInt((person.querySelector('input[name$="-birth_year"]') || {}).value, 10);
      var ticked = (person.querySelector('input[name$="-under_18"]') || {}).checked;
      var hasError = !!guardian.querySelector(".errorlist");
      var minor = ticked || (!isNaN(born) && !isNaN(minorYears) && born >= recordedYear() - minorYears);
      guardian.hidden = !(minor || hasError);
    });
  }
  form.addEventListener("input", showGuardians);
  form.addEventListener("change", showGuardians);
  showGuardians();

  // A recording made here is kept in the browser (IndexedDB) until its upload has finished.
  var kept = {
    open: function () {
      return new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var request = indexedDB.open("story-archive-share", 1);
        request.onupgradeneeded = function () { request.result.createObjectStore("recordings"); };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    },
    run: function (mode, action) {
      return kept.open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var transaction = db.transaction("recordings", mode);
          var request = action(transaction.objectStore("recordings"));
          transaction.oncomplete = function () { db.close(); resolve(request.result); };
          transaction.onerror = function () { db.close(); reject(transaction.error); };
        });
      });
    },
    save: function (file) {
      return kept.run("readwrite", function (store) {
        return store.put({ blob: file, name: file.name, type: file.type, lastModified: file.lastModified }, uploadUrl);
      });
    },
    load: function () {
      return kept.run("readonly", function (store) { return store.get(uploadUrl); });
    },
    forget: function () {
      return kept.run("readwrite", function (store) { return store.delete(uploadUrl); });
    },
  };

  // Recording in the page, where the browser can.
  var recorder = form.querySelector(".share-recorder");
  if (!recorder || !window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  recorder.hidden = false;
  var startButton = recorder.querySelector("[data-record-start]");
  var stopButton = recorder.querySelector("[data-record-stop]");
  var clock = recorder.querySelector("[data-record-time]");
  var preview = recorder.querySelector("[data-record-preview]");
  var keptNote = recorder.querySelector("[data-record-kept]");
  var saveLink = recorder.querySelector("[data-record-save]");
  var mediaRecorder = null;
  var pieces = [];
  var timer = null;

  function chosenType() {
    var types = ["audio/webm;codecs=opus", "audio/mp4", "audio/ogg;codecs=opus", "audio/webm"];
    for (var i = 0; i < types.length; i++) {
      if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(types[i])) return types[i];
    }
    return "";
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var type = chosenType();
      mediaRecorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      pieces = [];
      var began = Date.now();
      mediaRecorder.addEventListener("dataavailable", function (event) {
        if (event.data && event.data.size) pieces.push(event.data);
      });
      mediaRecorder.addEventListener("stop", function () {
        clearInterval(timer);
        stream.getTracks().forEach(function (track) { track.stop(); });
        var mime = (mediaRecorder.mimeType || type || "audio/webm").split(";")[0];
        var ending = mime.indexOf("mp4") >= 0 ? ".m4a" : mime.indexOf("ogg") >= 0 ? ".ogg" : ".webm";
        var blob = new Blob(pieces, { type: mime });
        var file = new File([blob], "recorded-here" + ending, { type: mime, lastModified: Date.now() });
        startButton.hidden = false;
        stopButton.hidden = true;
        startButton.textContent = "Record again";
        keepAndUpload(file);
      });
      mediaRecorder.start(1000);
      startButton.hidden = true;
      stopButton.hidden = false;
      timer = setInterval(function () {
        var seconds = Math.floor((Date.now() - began) / 1000);
        clock.textContent = "Recording " + Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      }, 500);
    }).catch(function () {
      clock.textContent = "We could not use the microphone. You can choose a recording instead.";
    });
  });

  function offer(file) {
    var address = URL.createObjectURL(file);
    preview.src = address;
    preview.hidden = false;
    if (saveLink) {
      saveLink.hidden = false;
      saveLink.href = address;
      saveLink.download = "my-story-" + new Date(file.lastModified || Date.now()).toISOString().slice(0, 10) +
        file.name.slice(file.name.lastIndexOf("."));
    }
    if (keptNote) keptNote.hidden = false;
  }

  function keepAndUpload(file) {
    offer(file);
    // Kept first, so a reload or a dropped connection during the upload loses nothing.
    var saved = kept.save(file).catch(function () { return null; });
    return saved.then(function () {
      return upload(file, function () {
        return kept.forget().catch(function () { return null; }).then(function () {
          // Uploaded: the summary's player checks it now, and the browser's copy is no longer needed.
          if (keptNote) keptNote.hidden = true;
          preview.hidden = true;
        });
      });
    });
  }

  // A recording left from before a reload or a lost connection is offered again and its upload carries on.
  kept.load().then(function (entry) {
    if (!entry || !entry.blob) return;
    var file = new File([entry.blob], entry.name, { type: entry.type, lastModified: entry.lastModified });
    startButton.textContent = "Record again";
    clock.textContent = "We kept the recording you made here before. It is being uploaded now.";
    keepAndUpload(file);
  }).catch(function () { return null; });

  stopButton.addEventListener("click", function () {
    if (mediaRecorder && mediaRecorder.state !== "inactive") mediaRecorder.stop();
    clock.textContent = "";
  });
})();
