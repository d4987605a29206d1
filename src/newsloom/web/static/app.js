// newsloom: keyboard shortcuts, theme toggle and service worker. Every page works without this file.
(function () {
  "use strict";

  // -- theme toggle: light <-> dark, starting from what the system prefers -----------------------------------
  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    toggle.hidden = false;
    var current = function () {
      var set = document.documentElement.dataset.theme;
      if (set) return set;
      return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    };
    var label = function () {
      toggle.setAttribute("aria-label", current() === "dark" ? "Switch to light theme" : "Switch to dark theme");
    };
    label();
    toggle.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      try { localStorage.setItem("newsloom-theme", next); } catch (e) { /* private mode */ }
      label();
    });
  }

  // -- keyboard shortcuts ---------------------------------------------------------------------------------
  var selected = -1;
  var items = function () { return Array.prototype.slice.call(document.querySelectorAll("[data-item]")); };
  var select = function (index) {
    var list = items();
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (el) { el.classList.remove("selected"); el.removeAttribute("aria-current"); });
    var el = list[index];
    el.classList.add("selected");
    el.setAttribute("aria-current", "true");
    var link = el.querySelector("[data-open]");
    (link || el).focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
    selected = index;
  };
  var typing = function (target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  };
  var help = document.getElementById("help");

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var list = items();
    var current = list.indexOf(document.activeElement && document.activeElement.closest ? document.activeElement.closest("[data-item]") : null);
    if (current >= 0) selected = current;
    switch (event.key) {
      case "j": select(selected + 1); break;
      case "k": select(selected < 0 ? 0 : selected - 1); break;
      case "o": {
        var open = selected >= 0 && list[selected] ? list[selected].querySelector("[data-open]") : null;
        if (open) window.location.assign(open.href); else return;
        break;
      }
      case "s": {
        var scope = selected >= 0 && list[selected] ? list[selected] : document;
        var save = scope.querySelector("[data-save]");
        if (save) save.click(); else return;
        break;
      }
      case "/": {
        var search = document.getElementById("site-search");
        if (search) search.focus(); else return;
        break;
      }
      case "?":
        if (help) { if (help.open) help.close(); else help.showModal(); }
        break;
      default: return;
    }
    event.preventDefault();
  });

  // -- unread notifications: the installed app's icon badge (Badging API) mirrors the nav badge ---------------
  var unread = parseInt(document.body.getAttribute("data-unread") || "0", 10) || 0;
  if ("setAppBadge" in navigator) {
    (unread ? navigator.setAppBadge(unread) : navigator.clearAppBadge()).catch(function () { /* not installed */ });
  }

  // -- offline reading -------------------------------------------------------------------------------------
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* offline reading is a bonus */ });
  }
})();
