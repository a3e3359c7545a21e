/* The dashboard's one script: fetch each screen from /app/api/ with Telegram's initData in a
   header, show it, keep the address and Telegram's BackButton in step with the drill-down. */
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  var screen = document.getElementById("screen");
  var HOME = "/app/";
  var depth = 0;

  function api(path, method, body) {
    var headers = { "X-Telegram-Init-Data": tg ? tg.initData : "" };
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(path, {
      method: method || "GET",
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit"
    }).then(function (response) {
      return response.json().then(function (answer) {
        answer.status = response.status;
        return answer;
      });
    });
  }

  function mainAction() {
    return screen.querySelector("form[data-main]");
  }

  function syncMainButton() {
    if (!tg) { return; }
    var form = mainAction();
    if (form) {
      tg.MainButton.setText(form.getAttribute("data-main"));
      tg.MainButton.show();
    } else {
      tg.MainButton.hide();
    }
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
      syncMainButton();
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

  function dismiss(form) {
    var chosen = form.querySelector("input[name=reason]:checked");
    var body = {
      code: form.getAttribute("data-dismiss"),
      reason: chosen ? chosen.value : "",
      text: form.querySelector("textarea").value
    };
    api("/app/api/dismiss", "POST", body).then(function (answer) {
      if (answer.status !== 200) {
        form.querySelector(".dismissed").innerHTML = answer.text;
        return;
      }
      show(location.pathname).then(function () {
        var notice = screen.querySelector(".notice");
        if (notice) { notice.innerHTML = answer.text; }
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-dismiss]");
    if (form) {
      event.preventDefault();
      dismiss(form);
    }
  });

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
    tg.MainButton.onClick(function () {
      var form = mainAction();
      if (form) { form.requestSubmit(); }
    });
    if (tg.initData) { document.body.classList.add("in-telegram"); }
  }
  history.replaceState({ depth: 0 }, "", location.pathname);
  show(location.pathname);
})();
