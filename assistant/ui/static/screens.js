/* Shared by the kiosk and the widget: screen-reader announcements, the page language, the source cards, the thumbs.
   gradio re-renders the conversation on every streamed piece; a persistent live region announces each
   finished answer once, instead of every token. A thumb under an answer is a plain button in that rendered
   conversation: its value goes into the screen's hidden rating field, and the hidden button sends it to the
   server; when the conversation comes back with the rating pressed, the focus returns to it and the thanks is
   announced. */
(() => {
  "use strict";
  if (window.__fairAssistantScreens) return;  // gradio may put the head into the page twice
  window.__fairAssistantScreens = true;
  let announced = "";
  let shownTurns = 0;
  let live = null;
  let rated = "";  // the value of the thumb pressed last, until the server's answer shows it pressed

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
    confirmRating(conv);
    if (!last || !/fa-(done|error|queued)/.test(last.className)) return;
    const answer = last.querySelector(".fa-a .fa-text, .fa-a .fa-status");
    const message = answer ? answer.textContent.trim() : "";
    const key = turns.length + ":" + message;
    if (message && key !== announced) {
      announced = key;
      liveRegion().textContent = message;
    }
  }

  function confirmRating(conv) {
    // gradio's sanitiser drops aria-pressed from the rendered conversation: the chosen thumb carries a class
    conv.querySelectorAll(".fa-rate").forEach((b) => {
      const pressed = b.classList.contains("fa-pressed") ? "true" : "false";
      if (b.getAttribute("aria-pressed") !== pressed) b.setAttribute("aria-pressed", pressed);
    });
    if (!rated) return;
    const button = Array.from(conv.querySelectorAll(".fa-rate")).find((b) => b.value === rated);
    if (!button || !button.classList.contains("fa-pressed")) return;
    rated = "";
    button.focus();
    const thanks = button.closest(".fa-feedback").querySelector(".fa-thanks");
    if (thanks) liveRegion().textContent = thanks.textContent.trim();
  }

  function sendRating(button) {
    const field = document.querySelector("#fa-rating textarea, #fa-rating input");
    const send = document.getElementById("fa-rating-send");
    if (!field || !send) return;
    field.value = button.value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    rated = button.value;
    liveRegion().textContent = "";  // the same thanks twice is announced again
    send.click();
  }

  function closeCard(details) {
    details.open = false;
    const summary = details.querySelector("summary");
    if (summary) summary.focus();
  }

  document.addEventListener("click", (event) => {
    const thumb = event.target.closest && event.target.closest(".fa-rate");
    if (thumb && thumb.value) sendRating(thumb);
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
