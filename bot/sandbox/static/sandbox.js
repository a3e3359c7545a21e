// The sandbox page: polls the sandbox's state, shows the chosen person's chat as Telegram
// would, and posts what the person does. Texts come from the server in the page's language;
// message HTML is built and escaped by the server (bot/sandbox/render.py).
"use strict";

const T = JSON.parse(document.getElementById("texts").textContent);
const LANG = document.documentElement.lang;
const $ = (id) => document.getElementById(id);
let chat = Number(new URLSearchParams(location.search).get("chat")) || null;
let lastChat = "";
let lastLog = "";
let seenActions = {};
let typingTimer = null;

function withLang(path) {
  return path + (path.includes("?") ? "&" : "?") + "lang=" + LANG;
}

async function call(path, body, isForm) {
  const options = { method: "POST" };
  if (isForm) {
    options.body = body;
  } else {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  const response = await fetch(withLang(path), options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    notice(data.error || response.statusText);
    return null;
  }
  notice("");
  return data;
}

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

function fillTexts() {
  $("title").textContent = T.title;
  $("intro").textContent = T.intro;
  $("people-title").textContent = T.people;
  $("add-person").textContent = "+ " + T.add_person;
  $("time-title").textContent = T.time;
  $("jump-round").textContent = T.round;
  $("jump-scan").textContent = T.scan;
  $("jump-digest").textContent = T.digest;
  $("jump-deadline").textContent = T.deadline;
  $("days-label").textContent = T.days;
  $("jump-days").textContent = T.go;
  $("open-dashboard").textContent = T.dashboard;
  $("attach-label").textContent = "📎 " + T.attach;
  $("as-photo-label").textContent = T.as_photo;
  $("text").placeholder = T.placeholder;
  $("send").textContent = T.send;
  $("log-title").textContent = T.log;
  $("language-label").textContent = T.language + ":";
  $("phone-close").textContent = T.close;
  $("typing").textContent = T.typing;
  for (const link of document.querySelectorAll(".langs a")) {
    link.classList.toggle("current", link.dataset.lang === LANG);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      location.search = "?lang=" + link.dataset.lang + (chat ? "&chat=" + chat : "");
    });
  }
}

function timeOf(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Almaty" });
}

// Messages each person had from the bot when last on show: the others get an unread badge.
const seenCounts = {};

function renderPeople(people) {
  const list = $("people");
  for (const person of people) {
    if (person.id === chat || !(person.id in seenCounts)) seenCounts[person.id] = person.received;
  }
  const wanted = JSON.stringify(people) + chat;
  if (list.dataset.shown === wanted) return;
  list.dataset.shown = wanted;
  list.textContent = "";
  for (const person of people) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.chat = person.id;
    button.className = person.id === chat ? "active" : "";
    button.innerHTML = "<span></span><small></small>";
    button.firstChild.textContent = person.label;
    button.lastChild.textContent = person.name;
    const unread = person.received - seenCounts[person.id];
    if (unread > 0) {
      const badge = document.createElement("b");
      badge.className = "badge";
      badge.textContent = unread;
      button.appendChild(badge);
    }
    button.addEventListener("click", () => choose(person.id));
    item.appendChild(button);
    list.appendChild(item);
    if (person.id === chat) $("chat-name").textContent = person.label + " · " + person.name;
  }
}

function inlineKeyboard(message, rows) {
  const box = document.createElement("div");
  box.className = "inline";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      let element;
      if (button.data) {
        element = document.createElement("button");
        element.type = "button";
        element.addEventListener("click", () =>
          call(`/api/chat/${chat}/press`, { message: message.id, data: button.data }).then(poll));
      } else {
        element = document.createElement("a");
        element.href = button.url || "#";
        element.target = "_blank";
        element.rel = "noopener";
      }
      element.textContent = button.text;
      line.appendChild(element);
    }
    box.appendChild(line);
  }
  return box;
}

function renderMessage(message) {
  const bubble = document.createElement("div");
  bubble.className = "msg " + (message.from_bot ? "bot" : "user");
  bubble.dataset.id = message.id;
  if (message.file) {
    const url = `/api/file/${encodeURIComponent(message.file.id)}?name=${encodeURIComponent(message.file.name)}`;
    if (message.kind === "photo") {
      const image = document.createElement("img");
      image.src = url;
      image.alt = "";
      image.addEventListener("load", keepAtBottom);
      bubble.appendChild(image);
    } else {
      const link = document.createElement("a");
      link.className = "doc";
      link.href = url;
      link.download = message.file.name;
      link.textContent = "📄 " + message.file.name;
      bubble.appendChild(link);
    }
  }
  const body = document.createElement("div");
  body.className = "text";
  body.innerHTML = message.html; // built and escaped by the server
  bubble.appendChild(body);
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (message.edits ? T.edited + " " : "") + timeOf(message.date);
  if (!message.from_bot && message.kind === "text") {
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "edit";
    edit.textContent = T.edit;
    edit.addEventListener("click", () => {
      const text = prompt(T.edit_prompt, body.textContent);
      if (text) call(`/api/chat/${chat}/edit`, { message: message.id, text }).then(poll);
    });
    meta.appendChild(edit);
  }
  bubble.appendChild(meta);
  if (message.markup && message.markup.inline) bubble.appendChild(inlineKeyboard(message, message.markup.inline));
  return bubble;
}

function renderReplyKeyboard(messages) {
  const box = $("reply-keyboard");
  box.textContent = "";
  let rows = null;
  for (const message of messages) {
    if (!message.from_bot || !message.markup) continue;
    if (message.markup.reply) rows = message.markup.reply;
    if (message.markup.remove) rows = null;
  }
  for (const row of rows || []) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = button.text;
      element.addEventListener("click", () => sendText(button.text));
      line.appendChild(element);
    }
    box.appendChild(line);
  }
}

let stickToBottom = true;

function keepAtBottom() {
  const box = $("messages");
  if (stickToBottom) box.scrollTop = box.scrollHeight;
}

function renderChat(state) {
  const shown = JSON.stringify(state.chat.messages);
  const box = $("messages");
  if (shown !== lastChat) {
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80 || !lastChat;
    lastChat = shown;
    box.textContent = "";
    const messages = state.chat.messages.filter((m) => !m.deleted);
    for (const message of messages) box.appendChild(renderMessage(message));
    renderReplyKeyboard(messages);
    stickToBottom = atBottom;
    keepAtBottom();
  }
  const seen = seenActions[chat];
  seenActions[chat] = state.chat.actions;
  if (seen !== undefined && state.chat.actions > seen) {
    $("typing").hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { $("typing").hidden = true; }, 2500);
  }
}

function renderLog(entries) {
  const shown = JSON.stringify(entries);
  if (shown === lastLog) return;
  lastLog = shown;
  const list = $("log");
  list.textContent = "";
  for (const entry of entries.slice().reverse()) {
    const item = document.createElement("li");
    item.className = entry.status === 200 ? "" : "failed";
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.innerHTML = "<b></b> <span></span>";
    summary.firstChild.textContent = entry.method;
    summary.lastChild.textContent =
      (entry.chat ? "→ " + entry.chat + " " : "") + (entry.status === 200 ? "" : entry.status + " " + (entry.error || ""));
    const params = document.createElement("pre");
    params.textContent = entry.params;
    details.append(summary, params);
    item.appendChild(details);
    list.appendChild(item);
  }
}

async function poll() {
  const response = await fetch(withLang("/api/state" + (chat ? "?chat=" + chat : "")));
  if (!response.ok) return;
  const state = await response.json();
  if (!chat) chat = state.chat.id;
  if (state.chat.id !== chat) return; // switched while the answer was on its way
  $("clock").textContent = state.now_text;
  renderPeople(state.people);
  renderChat(state);
  renderLog(state.log);
}

function choose(id) {
  chat = id;
  lastChat = "";
  $("messages").textContent = "";
  history.replaceState(null, "", "?lang=" + LANG + "&chat=" + id);
  poll();
}

async function sendText(text) {
  if (!text.trim()) return;
  await call(`/api/chat/${chat}/text`, { text });
  poll();
}

async function jump(to) {
  const body = { to };
  if (to === "deadline") {
    const item = prompt(T.item_prompt);
    if (!item) return;
    body.item = item;
  }
  if (to === "days") body.days = Number($("days").value);
  for (const button of document.querySelectorAll(".time button")) button.disabled = true;
  try {
    const answer = await call("/api/time", body);
    if (answer) {
      $("time-result").textContent = answer.ran;
      $("clock").textContent = answer.now_text;
    }
  } finally {
    for (const button of document.querySelectorAll(".time button")) button.disabled = false;
  }
  poll();
}

async function addPerson() {
  const target = prompt(T.add_prompt);
  if (!target) return;
  const name = prompt(T.name_prompt);
  if (!name) return;
  const answer = await call("/api/people", { target, name });
  if (answer) choose(answer.id);
}

async function openDashboard() {
  const response = await fetch(withLang("/api/dashboard?chat=" + chat));
  if (!response.ok) return;
  const { url } = await response.json();
  $("phone-title").textContent = T.dashboard_title;
  $("phone-view").src = url;
  $("phone").hidden = false;
}

// The phone frame plays Telegram's part for the Mini App inside it: the app asks for its
// BackButton and MainButton by postMessage (telegram-web-app.js in an iframe), the frame shows
// them and posts the presses back.
function toMiniApp(eventType) {
  $("phone-view").contentWindow.postMessage(JSON.stringify({ eventType }), "*");
}

function fromMiniApp(event) {
  if (event.source !== $("phone-view").contentWindow) return;
  let message;
  try {
    message = JSON.parse(event.data);
  } catch (error) {
    return;
  }
  const data = message.eventData || {};
  if (message.eventType === "web_app_setup_back_button") {
    $("phone-back").hidden = !data.is_visible;
  } else if (message.eventType === "web_app_setup_main_button") {
    const button = $("phone-main");
    button.hidden = !data.is_visible;
    button.disabled = data.is_active === false || data.is_progress_visible === true;
    button.textContent = data.text || "";
    if (data.color) button.style.background = data.color;
    if (data.text_color) button.style.color = data.text_color;
  } else if (message.eventType === "web_app_close") {
    closePhone();
  }
}

function closePhone() {
  $("phone").hidden = true;
  $("phone-back").hidden = true;
  $("phone-main").hidden = true;
  $("phone-view").src = "about:blank";
}

document.addEventListener("DOMContentLoaded", () => {
  fillTexts();
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("file").files[0];
    if (file) {
      const form = new FormData();
      form.append("file", file, file.name);
      form.append("caption", $("text").value);
      if ($("as-photo").checked) form.append("as_photo", "1");
      $("file").value = "";
      $("text").value = "";
      await call(`/api/chat/${chat}/file`, form, true);
      poll();
      return;
    }
    const text = $("text").value;
    $("text").value = "";
    sendText(text);
  });
  for (const button of document.querySelectorAll(".time button")) {
    button.addEventListener("click", () => jump(button.dataset.to));
  }
  $("add-person").addEventListener("click", addPerson);
  $("open-dashboard").addEventListener("click", openDashboard);
  $("phone-close").addEventListener("click", closePhone);
  $("phone-back").addEventListener("click", () => toMiniApp("back_button_pressed"));
  $("phone-main").addEventListener("click", () => toMiniApp("main_button_pressed"));
  window.addEventListener("message", fromMiniApp);
  poll();
  setInterval(poll, 700);
});
