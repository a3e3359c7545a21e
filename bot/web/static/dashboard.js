/* The dashboard's one script: fetch each screen from /app/api/ with Telegram's initData in a
   header, show it, keep the address and Telegram's BackButton in step with the drill-down. */
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  var screen = document.getElementById("screen");
  var HOME = "/app/";
  var depth = 0;

  function api(path, method) {
    return fetch(path, {
      method: method || "GET",
      headers: { "X-Telegram-Init-Data": tg ? tg.initData : "" },
      credentials: "omit"
    }).then(function (response) { return response.json(); });
  }

  function apiPath(path) {
    var rest = path.indexOf(HOME) === 0 ? path.slice(HOME.length) : "";
    return "/app/api/" + (rest || "summary");
  }

  function show(path) {
    document.body.removeAttribute("data-ready");
    return api(apiPath(path)).then(function (shown) {
      document.title = shown.title;
      screen.innerHTML = shown.html;
      window.scrollTo(0, 0);
      if (tg) {
        if (shown.back) { tg.BackButton.show(); } else { tg.BackButton.hide(); }
      }
      document.body.setAttribute("data-ready", path);
    });
  }

  function go(path) {
    depth += 1;
    history.pushState({ depth: depth }, "", path);
    show(path);
  }

  function back() {
    if (depth > 0) {
      history.back();
    } else {
      history.replaceState({ depth: 0 }, "", HOME);
      show(HOME);
    }
  }

  function ask(button) {
    button.disabled = true;
    api("/app/api/item/" + button.getAttribute("data-ask") + "/ask", "POST").then(function (answer) {
      var notice = screen.querySelector(".notice");
      if (notice) { notice.innerHTML = answer.text || answer.html; }
      if (tg && tg.HapticFeedback) { tg.HapticFeedback.notificationOccurred("success"); }
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-nav]");
    if (link) {
      event.preventDefault();
      go(link.getAttribute("href"));
      return;
    }
    var button = event.target.closest("button[data-ask]");
    if (button && !button.disabled) { ask(button); }
  });

  window.addEventListener("popstate", function (event) {
    depth = event.state && event.state.depth ? event.state.depth : 0;
    show(location.pathname);
  });

  if (tg) {
    tg.ready();
    tg.expand();
    tg.BackButton.onClick(back);
  }
  history.replaceState({ depth: 0 }, "", location.pathname);
  show(location.pathname);
})();
