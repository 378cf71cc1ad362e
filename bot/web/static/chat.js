// Web chat: talks to POST /api/chat and polls GET /api/chat/updates. No build step.
// Who is talking is the server's business: the page holds no user id; the browser sends the
// HttpOnly secret cookie the server set with this page (same-origin requests carry it).
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  localStorage.removeItem("agribot.user");  // the old client-chosen id: no longer used

  function bubble(text, who) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;  // never innerHTML: user and bot text are shown as text
    log.appendChild(div);
    return div;
  }

  function show(reply) {
    var div = bubble(reply.text, "bot");
    if (reply.image) {
      var img = document.createElement("img");
      img.src = reply.image;
      img.alt = "Biểu đồ";
      div.appendChild(img);
    }
    if (reply.document) {
      var a = document.createElement("a");
      a.href = reply.document;
      a.className = "doc";
      a.textContent = "📎 Tải tệp";
      a.setAttribute("download", "");
      div.appendChild(document.createElement("br"));
      div.appendChild(a);
    }
    (reply.buttons || []).forEach(function (row) {
      var wrap = document.createElement("div");
      wrap.className = "buttons";
      row.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.text;
        btn.addEventListener("click", function () { send({ button: b.data }, b.text); });
        wrap.appendChild(btn);
      });
      log.appendChild(wrap);
    });
    return div;
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  // A new answer is read from its start: scroll so its first line is at the top of the chat,
  // not to its end (a long answer would otherwise open on its last line).
  function scrollToStart(el) {
    if (!el) { scroll(); return; }
    log.scrollTop = Math.max(0, el.offsetTop - 8);
  }

  function showAll(replies) {
    var first = null;
    replies.forEach(function (reply) {
      var div = show(reply);
      if (!first) first = div;
    });
    scrollToStart(first);
  }

  function send(body, echo) {
    if (echo) bubble(echo, "me");
    scroll();
    return fetch("/api/chat", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      showAll(data.replies);
    }).catch(function () {
      bubble("Xin lỗi, chưa gửi được. Bác kiểm tra mạng rồi thử lại nhé.", "bot error");
      scroll();
    });
  }

  function poll() {
    fetch("/api/chat/updates", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { replies: [] }; })
      .then(function (data) { if (data.replies.length) showAll(data.replies); })
      .catch(function () {});
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text }, text);
  });

  if (!sessionStorage.getItem("agribot.started")) {
    sessionStorage.setItem("agribot.started", "1");
    send({ text: "/start" });
  }
  setInterval(poll, 10000);
  poll();
})();
