/* The kiosk's idle timer: after kiosk_idle_s seconds without a touch it shows a countdown for the last
   kiosk_countdown_s seconds, then presses the hidden reset button, which clears the conversation on the
   server and brings back the attract screen. A touch, a key or a streaming answer counts as activity. */
(() => {
  "use strict";
  if (window.__fairAssistantKiosk) return;  // gradio may put the head into the page twice
  window.__fairAssistantKiosk = true;
  const config = JSON.parse(document.getElementById("fa-kiosk-config").textContent);
  let last = Date.now();
  let overlay = null;

  const language = () => (document.documentElement.lang === "de" ? "de" : "en");
  const say = (key) => config.texts[language()][key];

  function hide() {
    if (overlay && !overlay.hidden) overlay.hidden = true;
  }

  function active() {
    last = Date.now();
    hide();
  }

  function build() {
    overlay = document.createElement("div");
    overlay.id = "fa-idle";
    overlay.hidden = true;
    overlay.setAttribute("role", "alertdialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-labelledby", "fa-idle-title");
    overlay.setAttribute("aria-describedby", "fa-idle-count");
    const box = document.createElement("div");
    box.className = "fa-idle-box";
    const title = document.createElement("h2");
    title.id = "fa-idle-title";
    const count = document.createElement("p");
    count.id = "fa-idle-count";
    const stay = document.createElement("button");
    stay.type = "button";
    stay.id = "fa-idle-stay";
    stay.addEventListener("click", active);
    box.append(title, count, stay);
    overlay.append(box);
    document.body.append(overlay);
  }

  function show(seconds) {
    if (!overlay) build();
    overlay.querySelector("#fa-idle-title").textContent = say("idle_title");
    overlay.querySelector("#fa-idle-count").textContent = say("idle_body").replace("{seconds}", String(seconds));
    overlay.querySelector("#fa-idle-stay").textContent = say("idle_stay");
    if (overlay.hidden) {
      overlay.hidden = false;
      overlay.querySelector("#fa-idle-stay").focus();
    }
  }

  function somethingToClear() {
    const typed = document.querySelector("#fa-kiosk-question textarea, #fa-kiosk-question input");
    return Boolean(
      document.querySelector(".fa-conv .fa-turn") ||
        (typed && typed.value.trim()) ||
        document.documentElement.lang !== config.language
    );
  }

  function tick() {
    if (document.querySelector(".fa-turn.fa-queued, .fa-turn.fa-thinking, .fa-turn.fa-streaming")) last = Date.now();
    if (!somethingToClear()) {
      active();
      return;
    }
    const left = Math.ceil((last + config.idle_s * 1000 - Date.now()) / 1000);
    if (left <= 0) {
      active();
      const reset = document.getElementById("fa-kiosk-idle-reset");
      if (reset) reset.click();
    } else if (left <= config.countdown_s) {
      show(left);
    }
  }

  for (const type of ["pointerdown", "keydown", "wheel", "touchstart", "input"]) {
    window.addEventListener(type, active, { capture: true, passive: true });
  }
  setInterval(tick, 250);
})();
