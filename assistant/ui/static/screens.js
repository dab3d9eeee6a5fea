/* Shared by the kiosk and the widget: screen-reader announcements, the page language, the source cards.
   gradio re-renders the conversation on every streamed piece; a persistent live region announces each
   finished answer once, instead of every token. */
(() => {
  "use strict";
  if (window.__fairAssistantScreens) return;  // gradio may put the head into the page twice
  window.__fairAssistantScreens = true;
  let announced = "";
  let shownTurns = 0;
  let live = null;

  function liveRegion() {
    if (!live || !live.isConnected) {
      live = document.createElement("div");
      live.id = "fa-live";
      live.className = "fa-sr-only";
      live.setAttribute("aria-live", "polite");
      live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    return live;
  }

  function sync() {
    const conv = document.querySelector(".fa-conv");
    if (!conv) return;
    const lang = conv.getAttribute("lang");
    if (lang && document.documentElement.lang !== lang) document.documentElement.lang = lang;
    const turns = conv.querySelectorAll(".fa-turn");
    const last = turns[turns.length - 1];
    if (turns.length > shownTurns && last) last.scrollIntoView({ block: "start" });  // a new question: show it
    shownTurns = turns.length;
    const wrapper = conv.parentElement;
    if (wrapper) wrapper.setAttribute("aria-busy", last && /fa-(thinking|streaming)/.test(last.className) ? "true" : "false");
    if (!last || !/fa-(done|error|queued)/.test(last.className)) return;
    const answer = last.querySelector(".fa-a .fa-text, .fa-a .fa-status");
    const message = answer ? answer.textContent.trim() : "";
    const key = turns.length + ":" + message;
    if (message && key !== announced) {
      announced = key;
      liveRegion().textContent = message;
    }
  }

  function closeCard(details) {
    details.open = false;
    const summary = details.querySelector("summary");
    if (summary) summary.focus();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest(".fa-close");
    const details = button && button.closest("details");
    if (details) closeCard(details);
  });
  document.addEventListener("toggle", (event) => {  // one card open at a time
    const opened = event.target;
    if (!opened.matches || !opened.matches(".fa-chip") || !opened.open) return;
    document.querySelectorAll(".fa-chip[open]").forEach((other) => { if (other !== opened) other.open = false; });
    opened.scrollIntoView({ block: "nearest" });
  }, true);
  document.addEventListener("keydown", (event) => {
    const open = event.key === "Escape" && document.querySelector(".fa-chip[open]");
    if (open) closeCard(open);
  });

  const start = () => {
    liveRegion();
    sync();
    const observer = new MutationObserver(sync);
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    // gradio sets <html lang> to the browser's locale; the page's language is the conversation's
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
