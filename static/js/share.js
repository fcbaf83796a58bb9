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

  function upload(file) {
    busy = true;
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

  // Recording in the page, where the browser can.
  var recorder = form.querySelector(".share-recorder");
  if (!recorder || !window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  recorder.hidden = false;
  var startButton = recorder.querySelector("[data-record-start]");
  var stopButton = recorder.querySelector("[data-record-stop]");
  var clock = recorder.querySelector("[data-record-time]");
  var preview = recorder.querySelector("[data-record-preview]");
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
        preview.src = URL.createObjectURL(blob);
        preview.hidden = false;
        startButton.hidden = false;
        stopButton.hidden = true;
        startButton.textContent = "Record again";
        upload(file);
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

  stopButton.addEventListener("click", function () {
    if (mediaRecorder && mediaRecorder.state !== "inactive") mediaRecorder.stop();
    clock.textContent = "";
  });
})();
