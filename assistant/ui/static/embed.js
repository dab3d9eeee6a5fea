/* The embed snippet for other websites:
     <script src="http://HOST:7860/widget/embed.js" defer></script>
   adds a launcher button that opens the assistant's /widget in an iframe. Optional attributes on the tag:
   data-lang="de|en" (default: the page's <html lang>), data-label="…" (the button's text; by default the event
   profile's embed_label, which the server writes into this script where the marked labels below stand).
   The iframe cannot navigate the host page (sandbox without allow-top-navigation); the widget's server only
   lets itself be framed by the origins in its allowed_embed_origins setting. */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__fairAssistantWidget) return;
  window.__fairAssistantWidget = true;

  const origin = new URL(script.src, window.location.href).origin;
  const pageLang = (script.dataset.lang || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  const lang = pageLang === "de" ? "de" : "en";
  const labels = /* fa:labels */ { de: "Fragen Sie den Messe-Assistenten", en: "Ask the event assistant" } /* /fa:labels */;
  const label = script.dataset.label || labels[lang];
  const words = {
    de: { open: label, close: "Chat schließen", title: "Chat: " + label },
    en: { open: label, close: "Close chat", title: "Chat: " + label },
  }[lang];

  const launcher = document.createElement("button");
  launcher.type = "button";
  launcher.id = "fair-assistant-launcher";
  launcher.textContent = words.open;
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "fair-assistant-panel");
  Object.assign(launcher.style, {
    position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000", padding: "14px 20px",
    font: "600 16px/1.2 system-ui, sans-serif", color: "#ffffff", background: "#003a70", border: "2px solid #ffffff",
    borderRadius: "999px", boxShadow: "0 4px 14px rgba(0,0,0,.35)", cursor: "pointer", maxWidth: "calc(100vw - 32px)",
  });

  const panel = document.createElement("div");
  panel.id = "fair-assistant-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", words.title);
  Object.assign(panel.style, {
    position: "fixed", zIndex: "2147483001", background: "#ffffff", boxShadow: "0 8px 30px rgba(0,0,0,.35)",
    display: "flex", flexDirection: "column", overflow: "hidden",
  });

  const close = document.createElement("button");
  close.type = "button";
  close.id = "fair-assistant-close";
  close.textContent = "×";
  close.setAttribute("aria-label", words.close);
  Object.assign(close.style, {
    alignSelf: "flex-end", margin: "4px", width: "44px", height: "44px", font: "700 26px/1 system-ui, sans-serif",
    color: "#ffffff", background: "#003a70", border: "none", borderRadius: "8px", cursor: "pointer",
  });

  let frame = null;

  function place() {
    const phone = window.innerWidth < 520;
    Object.assign(panel.style, phone
      ? { inset: "0", width: "100vw", height: "100%", borderRadius: "0" }
      : { inset: "auto 16px 80px auto", width: "400px", height: "min(640px, calc(100vh - 100px))", borderRadius: "12px" });
  }

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "fair-assistant-frame";
      frame.title = words.title;
      frame.src = origin + "/widget/?__theme=light&lang=" + lang;
      frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox");
      frame.setAttribute("referrerpolicy", "no-referrer");
      Object.assign(frame.style, { flex: "1", width: "100%", border: "0" });
      panel.append(frame);
    }
    place();
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.style.display = window.innerWidth < 520 ? "none" : "";
    close.focus();
  }

  function shut() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.style.display = "";
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : shut()));
  close.addEventListener("click", shut);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !panel.hidden) shut(); });
  window.addEventListener("resize", () => { if (!panel.hidden) place(); });

  panel.append(close);
  const attach = () => document.body.append(panel, launcher);
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
})();
