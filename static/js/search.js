/* Search box suggestions: words from public stories that start with what is being typed, offered in the input's
   <datalist>. Plain JS, no build. Without this file the search box is an ordinary text field. */
/* On a phone the results come first: the filters fold behind their "Filters" button until it is pressed. Without
   this file they stay open above the results. */
(function () {
  "use strict";

  var panel = document.querySelector("details[data-fold-on-phone]");
  if (panel && window.matchMedia && window.matchMedia("(max-width: 47.99rem)").matches) panel.open = false;
})();

(function () {
  "use strict";

  var input = document.querySelector("input[data-suggest-url]");
  var list = input && document.getElementById(input.getAttribute("list"));
  if (!input || !list || !window.fetch) return;

  var timer = null;
  var pending = null;

  function lastWord(text) {
    var match = /([\p{L}\p{N}_]+)$/u.exec(text);
    return match ? match[1] : "";
  }

  function show(typed, suggestions) {
    if (input.value !== typed) return; // the visitor has typed on since this request went out
    var stem = typed.slice(0, typed.length - lastWord(typed).length);
    list.replaceChildren.apply(
      list,
      suggestions.map(function (word) {
        var option = document.createElement("option");
        option.value = stem + word;
        return option;
      })
    );
  }

  function ask() {
    var typed = input.value;
    if (lastWord(typed).length < 2) {
      list.replaceChildren();
      return;
    }
    if (pending) pending.abort();
    pending = window.AbortController ? new AbortController() : null;
    var url = input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(typed);
    fetch(url, { signal: pending ? pending.signal : undefined, headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (body) { show(typed, body.suggestions || []); })
      .catch(function () {}); // an aborted or failed request leaves the last suggestions in place
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
})();
