// calproxy portal: the week view refreshes itself when the calendar changes (DESIGN §11).
// Enhancement only: without JavaScript (or EventSource) the page is what the server sent,
// and a reload shows changes. The week's container names its change stream in
// data-changes (resuming after the newest change the page already shows); on each event
// the page is fetched again and the week's days are replaced in place, so whatever is
// being typed in the forms stays. The stream opens once the page has settled.
"use strict";
(() => {
  const week = document.querySelector("[data-changes]");
  if (!week || typeof EventSource !== "function" || typeof DOMParser !== "function") return;
  let queued = null;
  const refresh = async () => {
    queued = null;
    const answer = await fetch(window.location.href, { credentials: "same-origin" });
    if (!answer.ok) return;
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.querySelector("[data-changes]");
    if (fresh) week.replaceChildren(...fresh.childNodes);
  };
  window.setTimeout(() => {
    const stream = new EventSource(week.dataset.changes);
    stream.addEventListener("message", () => {
      if (queued === null) queued = window.setTimeout(refresh, 300);  // a burst: one fetch
    });
  }, 1500);
})();
