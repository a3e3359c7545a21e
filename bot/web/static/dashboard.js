/* The dashboard's one script: fetch each screen from /app/api/ with Telegram's initData in a
   header, show it, keep the address and Telegram's BackButton in step with the drill-down.
   Forms: `data-filter` reads the screen again with its fields as the query; `data-post` sends
   its fields as JSON to an action; `data-main` is the screen's one MainButton action. */
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  var screen = document.getElementById("screen");
  var HOME = "/app/";
  var depth = 0;

  function failedText() {
    var user = tg && tg.initDataUnsafe && tg.initDataUnsafe.user;
    var language = user && user.language_code === "kk" ? "kk" : "ru";
    return screen.getAttribute("data-failed-" + language) ||
      screen.getAttribute("data-failed-kk") || "Error";
  }

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

  function showError(path) {
    document.title = "";
    screen.innerHTML = "";
    var notice = document.createElement("p");
    notice.className = "notice";
    notice.textContent = failedText();
    screen.appendChild(notice);
    if (tg) { tg.BackButton.show(); tg.MainButton.hide(); }
    document.body.setAttribute("data-ready", path);
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
    }, function () { showError(path); });
  }

  function here() {
    return location.pathname + location.search;
  }

  function go(path) {
    depth += 1;
    history.pushState({ depth: depth }, "", path);
    return show(path);
  }

  function back() {
    if (depth > 0) {
      history.back();
    } else {
      history.replaceState({ depth: 0 }, "", HOME);
      show(HOME);
    }
  }

  function say(place, answer) {
    if (!place) { return; }
    if (answer.html) { place.innerHTML = answer.html; } else { place.textContent = answer.text || ""; }
  }

  function ask(button) {
    button.disabled = true;
    api("/app/api/item/" + button.getAttribute("data-ask") + "/ask", "POST").then(function (answer) {
      say(screen.querySelector(".notice"), answer);
      if (tg && tg.HapticFeedback) { tg.HapticFeedback.notificationOccurred("success"); }
    }, function () { showError(here()); });
  }

  function fields(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled) { return; }
      if (field.type === "checkbox") {
        body[field.name] = body[field.name] || [];
        if (field.checked) { body[field.name].push(field.value); }
      } else if (field.type !== "radio" || field.checked) {
        body[field.name] = field.value;
      }
    });
    return body;
  }

  function post(form) {
    var status = form.querySelector(".status");
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (button) { button.disabled = true; });
    if (tg && form === mainAction()) { tg.MainButton.showProgress(); }
    api(form.getAttribute("data-post"), "POST", fields(form)).then(function (answer) {
      Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
      if (tg) { tg.MainButton.hideProgress(); }
      if (answer.next || answer.reload) {
        var shown = answer.next ? go(answer.next) : show(here());
        shown.then(function () {
          var notice = screen.querySelector(".notice");
          if (!notice) {
            notice = document.createElement("p");
            notice.className = "notice";
            screen.insertBefore(notice, screen.children[1] || null);
          }
          say(notice, answer);
        });
        return;
      }
      say(status, answer);
      if (tg && tg.HapticFeedback) {
        tg.HapticFeedback.notificationOccurred(answer.status === 200 ? "success" : "error");
      }
    }, function () { showError(here()); });
  }

  function filter(form) {
    var query = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value) {
        query.push(encodeURIComponent(field.name) + "=" + encodeURIComponent(field.value));
      }
    });
    go(location.pathname + (query.length ? "?" + query.join("&") : ""));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form");
    if (!form) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-filter")) { filter(form); }
    else if (form.hasAttribute("data-post")) { post(form); }
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
    show(here());
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
  history.replaceState({ depth: 0 }, "", here());
  show(here());
})();
