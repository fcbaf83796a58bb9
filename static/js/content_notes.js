// Content notes: a story that carries them waits behind them until the visitor chooses to continue. The choice is
// kept for that story in this browser only (localStorage); without JavaScript the Continue link reloads the page
// with the story shown.
(function () {
  "use strict";
  var notes = document.querySelector("[data-content-notes]");
  var content = document.querySelector("[data-story-content]");
  if (!notes || !content) return;
  var key = "storyarchive:continued:" + notes.getAttribute("data-story-id");

  function remember() {
    try { window.localStorage.setItem(key, "1"); } catch (error) { /* storage refused: ask again next time */ }
  }

  function remembered() {
    try { return window.localStorage.getItem(key) === "1"; } catch (error) { return false; }
  }

  function reveal(focus) {
    content.hidden = false;
    var prompt = notes.querySelector("[data-continue-prompt]");
    if (prompt) prompt.hidden = true;
    document.dispatchEvent(new CustomEvent("storyarchive:continued"));
    if (focus) {
      content.setAttribute("tabindex", "-1");
      content.focus();
    }
  }

  if (!content.hidden) {
    remember();  // continued through the link, without this script's help
    return;
  }
  if (remembered()) {
    reveal(false);
    return;
  }
  var link = notes.querySelector("[data-continue]");
  if (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      remember();
      reveal(true);
    });
  }
})();
