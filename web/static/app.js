// trailguard's one script: live refresh. The pages work without it; with
// "live" ticked, the page's main part is fetched again every 15 s and
// swapped in (the server escaped it; nothing here builds HTML from data).
"use strict";
(function () {
  const box = document.getElementById("live");
  if (!box) return;
  box.checked = sessionStorage.getItem("trailguard-live") === "1";
  let timer = null;
  async function refresh() {
    try {
      const r = await fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!r.ok) return;
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.getElementById("main");
      const main = document.getElementById("main");
      if (fresh && main) main.replaceWith(document.adoptNode(fresh));
    } catch (e) {
      // Offline for a moment: the next tick tries again.
    }
  }
  function arm() {
    clearInterval(timer);
    timer = null;
    sessionStorage.setItem("trailguard-live", box.checked ? "1" : "0");
    if (box.checked) timer = setInterval(refresh, 15000);
  }
  box.addEventListener("change", arm);
  arm();
})();
