// Applies the stored theme before the page paints (loaded synchronously in <head>, so no flash of the other theme).
(function () {
  try {
    var theme = localStorage.getItem("newsloom-theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) { /* storage disabled: follow prefers-color-scheme */ }
})();
