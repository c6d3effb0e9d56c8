/* Switchboard web chat. Embed with one tag:
 *   <script src="https://HUB/widget.js" data-inbox="INBOX-ADDRESS" async></script>
 * Optional attributes: data-title (the panel's heading), data-color (the accent colour).
 * The visitor's token is kept in localStorage, so one thread follows them across visits;
 * agents' replies arrive over a WebSocket. Every text is rendered as text, never as HTML.
 * Visitors send files (picked, pasted or dropped; pictures, PDF, office documents, text,
 * audio and video up to 10 MB) and see pictures in the thread; files are fetched from the
 * hub with the visitor's token, never by a link anyone could open.
 * Before a visitor's first message, what they type is matched against the help centre's
 * published articles, offered above the message box; the inbox's bot answers on the agents'
 * side of the thread, marked as a bot. */
(function () {
  "use strict";
  var script =
    document.currentScript || document.querySelector('script[src*="widget.js"][data-inbox]');
  if (!script || window.__switchboardChat) return;
  window.__switchboardChat = true;

  var hub = new URL(script.src, location.href).origin;
  var inbox = script.getAttribute("data-inbox") || "";
  var accent = script.getAttribute("data-color") || "#2f5bea";
  var storageKey = "switchboard.chat." + hub + "." + inbox;

  var state = {
    token: load(),
    title: script.getAttribute("data-title") || "",
    email: null,
    lines: {}, // id or "c:" + client_id → line
    order: [],
    open: false,
    socket: null,
    retry: 0,
    started: false,
    hasMore: false,
    lastRead: Number(load(".read")) || 0, // the newest agent's or bot's line the visitor has seen
  };

  function load(suffix) {
    try {
      return localStorage.getItem(storageKey + (suffix || ""));
    } catch (e) {
      return null;
    }
  }
  function save(value, suffix) {
    try {
      localStorage.setItem(storageKey + (suffix || ""), value);
    } catch (e) {
      /* storage refused (private mode): the thread lasts for this page only */
    }
  }

  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(hub + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (j) {
        if (!r.ok) throw Object.assign(new Error(j.message || "HTTP " + r.status), { code: j.code });
        return j;
      });
    });
  }

  /* ---- the page ---- */

  var host = document.createElement("div");
  host.id = "switchboard-chat";
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif}" +
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:var(--accent);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646;" +
    "display:flex;align-items:center;justify-content:center;padding:0}" +
    ".launcher:focus-visible,button:focus-visible,a:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#d92d20;" +
    "color:#fff;font-size:12px;line-height:20px;padding:0 6px}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;" +
    "max-height:calc(100vh - 120px);display:flex;flex-direction:column;background:#fff;color:#1d2433;" +
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;z-index:2147483647}" +
    ".panel[hidden]{display:none}" +
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 16px;background:var(--accent);color:#fff}" +
    "header h2{margin:0;font-size:16px;font-weight:600}" +
    "header button{background:none;border:0;color:#fff;cursor:pointer;display:flex;padding:4px;border-radius:4px}" +
    ".icon{display:block;flex:none}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}" +
    ".msg{max-width:80%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".msg[data-author=visitor]{align-self:flex-end;background:var(--accent);color:#fff}" +
    ".msg[data-author=agent]{align-self:flex-start;background:#fff;border:1px solid #e1e4ea}" +
    ".msg[data-author=bot]{align-self:flex-start;background:#fff;border:1px solid #e1e4ea}" +
    ".msg .bot-badge{display:inline-block;margin-left:2px;padding:0 5px;border:1px solid #b8c0cf;border-radius:4px;" +
    "background:#e8ecf4;color:#2c3547;font-size:10px;font-weight:700;line-height:15px;letter-spacing:.03em;vertical-align:1px}" +
    ".rate{display:flex;gap:4px;margin-top:6px}" +
    ".rate button{min-width:30px;padding:4px 6px;border:1px solid #c9ced8;border-radius:6px;background:#fff;cursor:pointer}" +
    ".rate button[aria-pressed=true]{background:var(--accent);color:#fff;border-color:var(--accent)}" +
    ".msg .who{display:block;font-size:12px;font-weight:600;margin-bottom:2px}" +
    ".msg .when{display:block;font-size:11px;opacity:.7;margin-top:2px}" +
    ".msg[data-state=failed]{opacity:.7;border:1px dashed #d92d20}" +
    ".msg[data-state=pending] .when::after{content:' · sending'}" +
    ".msg button{background:none;border:0;color:inherit;text-decoration:underline;cursor:pointer;padding:0}" +
    ".older{align-self:center;background:none;border:0;color:var(--accent);cursor:pointer}" +
    ".email{display:flex;gap:6px;padding:8px 12px;border-top:1px solid #e1e4ea;background:#fff;flex-wrap:wrap}" +
    ".email[hidden]{display:none}" +
    ".email label{width:100%;font-size:12px;color:#4a5468}" +
    ".email input{flex:1;padding:6px 8px;border:1px solid #c5cad3;border-radius:6px}" +
    ".compose{display:flex;gap:6px;padding:8px 12px;border-top:1px solid #e1e4ea}" +
    ".compose textarea{flex:1;resize:none;height:40px;padding:8px;border:1px solid #c5cad3;border-radius:6px}" +
    ".compose button,.email button{padding:6px 12px;border:0;border-radius:6px;background:var(--accent);color:#fff;cursor:pointer}" +
    ".status{padding:4px 12px;font-size:12px;color:#8a4b00;background:#fff4e5}" +
    ".file{display:block;margin-top:4px}" +
    ".choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}" +
    ".msg .choices button{text-decoration:none;padding:6px 10px;border:1px solid var(--accent);border-radius:16px;color:var(--accent);background:#fff}" +
    ".msg .choices button[aria-pressed=true]{background:var(--accent);color:#fff}" +
    ".msg .choices button:disabled{cursor:default;opacity:.75}" +
    ".msg .choices small{display:block;font-size:11px;opacity:.8}" +
    ".file img{display:block;max-width:220px;max-height:180px;border-radius:8px;margin-bottom:2px;background:#eef0f4}" +
    ".compose .attach{background:none;color:#4a5468;padding:6px;display:flex;align-items:center}" +
    ".panel.dropping .log{outline:3px dashed var(--accent);outline-offset:-6px}" +
    ".articles{flex:none;max-height:45%;overflow-y:auto;padding:8px 12px;border-top:1px solid #e1e4ea;background:#fff}" +
    ".articles[hidden],.articles-title[hidden]{display:none}" +
    ".articles-title{margin:0 0 6px;font-size:12px;font-weight:600;color:#4a5468}" +
    ".articles ul{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:6px}" +
    ".articles li{padding:6px 8px;border:1px solid #e1e4ea;border-radius:8px}" +
    ".articles a{color:var(--accent);font-weight:600;text-decoration:underline;overflow-wrap:anywhere}" +
    ".articles .snippet{display:block;margin:2px 0 6px;font-size:12px;color:#4a5468;overflow-wrap:anywhere}" +
    ".articles li button{padding:3px 10px;border:1px solid #c9ced8;border-radius:12px;background:#fff;color:#1d2433;font-size:12px;cursor:pointer}" +
    ".articles li button:disabled{cursor:default;opacity:.6}" +
    ".articles .thanks{margin:0;color:#1d2433}" +
    ".status[hidden]{display:none}";
  root.appendChild(style);
  host.style.setProperty("--accent", accent);

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* Icons are drawn as SVG, never as characters: a page on a system without an emoji font
   * (or a font with the symbol) shows them all the same. */
  var ICONS = {
    chat: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9.5L5 21.5V18H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z",
    close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z",
    clip:
      "M16.5 6v11.5a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6H9v9.5a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v12.5a6 6 0 0 0 12 0V6z",
  };
  function icon(name, size) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size));
    svg.setAttribute("height", String(size));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon icon-" + name);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  /* What a visitor may send (the hub checks each file's content again). */
  var MAX_FILE_BYTES = 10 * 1024 * 1024;
  var MAX_FILES = 10;
  var ACCEPT =
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,.docx,.xlsx,.pptx,.doc,.xls,.zip,audio/*,video/mp4";
  var PICTURE = /^image\/(png|jpeg|gif|webp)$/;

  var launcher = el("button", { class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false" });
  launcher.appendChild(icon("chat", 26));
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(badge);

  var panel = el("section", { class: "panel", hidden: "", role: "dialog", "aria-label": "Chat" });
  var header = el("header");
  var heading = el("h2", {}, state.title || "Chat with us");
  var closeBtn = el("button", { type: "button", "aria-label": "Close chat" });
  closeBtn.appendChild(icon("close", 20));
  header.appendChild(heading);
  header.appendChild(closeBtn);
  var status = el("div", { class: "status", hidden: "", role: "status" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", tabindex: "0" });
  var older = el("button", { class: "older", type: "button", hidden: "" }, "Earlier messages");
  log.appendChild(older);

  var emailForm = el("form", { class: "email", hidden: "" });
  var emailLabel = el("label", { for: "sbw-email" }, "Leave your email and we'll reply there if you go.");
  var emailInput = el("input", { id: "sbw-email", type: "email", autocomplete: "email", placeholder: "you@example.com", required: "" });
  var emailBtn = el("button", { type: "submit" }, "Save");
  emailForm.appendChild(emailLabel);
  emailForm.appendChild(emailInput);
  emailForm.appendChild(emailBtn);

  // Articles that may answer the visitor's question, offered while they write their first line.
  var articlesBox = el("div", {
    class: "articles",
    hidden: "",
    role: "region",
    "aria-live": "polite",
    "aria-labelledby": "sbw-articles-title",
    "data-testid": "sb-articles",
  });
  var articlesTitle = el("p", { class: "articles-title", id: "sbw-articles-title" }, "Suggested articles");
  articlesBox.appendChild(articlesTitle);

  var compose = el("form", { class: "compose" });
  var input = el("textarea", { "aria-label": "Message", placeholder: "Write a message…", rows: "1", maxlength: "4000" });
  var sendBtn = el("button", { type: "submit" }, "Send");
  var attachBtn = el("button", { type: "button", class: "attach", "aria-label": "Attach a file" });
  attachBtn.appendChild(icon("clip", 20));
  var fileInput = el("input", { type: "file", multiple: "", hidden: "", accept: ACCEPT });
  compose.appendChild(attachBtn);
  compose.appendChild(input);
  compose.appendChild(sendBtn);
  compose.appendChild(fileInput);

  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(emailForm);
  panel.appendChild(articlesBox);
  panel.appendChild(compose);
  root.appendChild(panel);
  root.appendChild(launcher);

  function attach() {
    document.body.appendChild(host);
  }
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);

  /* ---- the thread ---- */

  function key(line) {
    return line.client_id ? "c:" + line.client_id : "i:" + line.id;
  }

  function time(ms) {
    var d = new Date(ms);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function render(line) {
    var node = line.node;
    if (!node) {
      node = line.node = el("div", { class: "msg" });
      var at = state.order.length;
      while (at > 0 && state.lines[state.order[at - 1]].sort > line.sort) at--;
      var next = state.order[at];
      state.order.splice(at, 0, line.key);
      log.insertBefore(node, next ? state.lines[next].node : null);
      hideArticles(); // the conversation has begun
    }
    node.textContent = "";
    node.setAttribute("data-author", line.author);
    node.setAttribute("data-state", line.state || "stored");
    if (line.author === "agent" && line.agent_name) node.appendChild(el("span", { class: "who" }, line.agent_name));
    if (line.author === "bot") {
      var who = el("span", { class: "who" }, line.agent_name ? line.agent_name + " " : "");
      who.appendChild(el("span", { class: "bot-badge", "data-testid": "sb-bot-badge" }, "Bot"));
      node.appendChild(who);
    }
    if (line.text) node.appendChild(el("span", { class: "text" }, line.text));
    (line.attachments || []).forEach(function (a) {
      node.appendChild(fileNode(a));
    });
    if (line.survey) node.appendChild(ratingButtons(line));
    if (line.choices && line.choices.options) node.appendChild(choiceButtons(line));
    node.appendChild(el("span", { class: "when" }, line.at ? time(line.at) : ""));
    if (line.state === "failed") {
      var again = el("button", { type: "button" }, "Not sent — try again");
      again.addEventListener("click", function () {
        deliver(line);
      });
      node.appendChild(again);
    }
  }

  /* The answer the visitor gave to `line`'s choices, if any (a later line of theirs). */
  function answerTo(line) {
    for (var i = 0; i < state.order.length; i++) {
      var l = state.lines[state.order[i]];
      if (l.author === "visitor" && l.chosen && l.chosen.offered_in === line.id) return l.chosen.id;
      if (l.author === "visitor" && l.choiceFor === line.id) return l.choiceId;
    }
    return null;
  }

  /* An agent's or the bot's choices: a button each; a tap sends the option as the visitor's
   * answer, once, and the choice stays shown. */
  function choiceButtons(line) {
    var answered = answerTo(line);
    var group = el("div", { class: "choices", role: "group", "aria-label": "Choose an answer" });
    line.choices.options.forEach(function (o) {
      var b = el("button", { type: "button", "data-choice": o.id, "aria-pressed": String(answered === o.id) }, o.title);
      if (o.description) b.appendChild(el("small", {}, o.description));
      if (answered !== null) b.disabled = true;
      b.addEventListener("click", function () {
        if (answerTo(line) !== null) return;
        var cid = newId();
        var mine = (state.lines["c:" + cid] = {
          key: "c:" + cid,
          client_id: cid,
          author: "visitor",
          text: o.title,
          at: Date.now(),
          sort: Number.MAX_SAFE_INTEGER,
          choiceFor: line.id,
          choiceId: o.id,
        });
        render(mine);
        render(line);
        scrollDown();
        deliver(mine);
      });
      group.appendChild(b);
    });
    return group;
  }

  /* A satisfaction survey: five buttons; the answer is sent once and the choice stays shown. */
  function ratingButtons(line) {
    var group = el("div", { class: "rate", role: "group", "aria-label": "Rate this conversation from 1 (poor) to 5 (great)" });
    [1, 2, 3, 4, 5].forEach(function (score) {
      var b = el("button", { type: "button", "data-score": String(score), "aria-pressed": String(line.rated === score) }, String(score));
      if (line.rated) b.disabled = true;
      b.addEventListener("click", function () {
        if (line.rated) return;
        line.rated = score;
        render(line);
        api("POST", "/chat/v1/rating", { message_id: line.id, score: score }).then(
          function () {
            setStatus("Thanks for your rating!");
          },
          function (e) {
            if (e.code !== "bad_request") line.rated = undefined;
            setStatus(e.code === "bad_request" ? "You have rated this conversation already." : "Your rating could not be sent; try again.");
            render(line);
          },
        );
      });
      group.appendChild(b);
    });
    return group;
  }

  /* ---- files ---- */

  var fetched = {}; // the hub's path of a file → a promise of a local object URL

  /* A file of the thread, fetched from the hub with the visitor's token (once). Only the
   * hub's own file paths are fetched. */
  function fetchFile(path) {
    if (!/^\/chat\/v1\/files\/[0-9a-f]{32}$/.test(path)) return Promise.reject(new Error("not a file of this chat"));
    if (!fetched[path]) {
      fetched[path] = fetch(hub + path, { headers: { Authorization: "Bearer " + state.token } })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.blob();
        })
        .then(function (b) {
          return URL.createObjectURL(b);
        });
      fetched[path].catch(function () {
        delete fetched[path];
      });
    }
    return fetched[path];
  }

  function size(n) {
    if (n < 1024) return n + " bytes";
    if (n < 1024 * 1024) return Math.ceil(n / 1024) + " KB";
    return (n / (1024 * 1024)).toFixed(1) + " MB";
  }

  /* One file of a line: a picture shows itself; every file has a button that saves it. */
  function fileNode(a) {
    var wrap = el("span", { class: "file" });
    var local = a.local ? Promise.resolve(a.local) : null;
    if (PICTURE.test(a.mime)) {
      var img = el("img", { alt: a.name });
      (local || fetchFile(a.url)).then(
        function (u) {
          img.src = u;
        },
        function () {
          img.alt = a.name + " (not available)";
        }
      );
      wrap.appendChild(img);
    }
    var save = el("button", { type: "button", class: "file-name" }, a.name + " (" + size(a.size) + ")");
    save.addEventListener("click", function () {
      (local || fetchFile(a.url)).then(
        function (u) {
          var link = el("a", { href: u, download: a.name });
          root.appendChild(link);
          link.click();
          link.remove();
        },
        function () {
          setStatus("The file could not be opened; try again.");
        }
      );
    });
    wrap.appendChild(save);
    return wrap;
  }

  /* Uploads a line's file (once: its client id is the upload's key); remembers the hub's
   * path for it. */
  function upload(line) {
    return fetch(hub + "/chat/v1/files", {
      method: "POST",
      headers: {
        Authorization: "Bearer " + state.token,
        "X-File-Name": encodeURIComponent(line.file.name),
        "Idempotency-Key": line.client_id,
      },
      body: line.file,
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw Object.assign(new Error(j.message || "HTTP " + r.status), { code: j.code });
        line.uploaded = j.url;
      });
    });
  }

  /* Sends each file as its own line, in order; refuses at once what the hub would. */
  function sendFiles(files) {
    var list = Array.prototype.slice.call(files);
    if (list.length > MAX_FILES) {
      setStatus("Send at most " + MAX_FILES + " files at once.");
      return;
    }
    list.forEach(function (file) {
      if (file.size > MAX_FILE_BYTES) {
        setStatus(file.name + " is " + size(file.size) + "; files up to 10 MB can be sent.");
        return;
      }
      var cid = newId();
      var line = (state.lines["c:" + cid] = {
        key: "c:" + cid,
        client_id: cid,
        author: "visitor",
        text: "",
        at: Date.now(),
        sort: Number.MAX_SAFE_INTEGER,
        file: file,
        attachments: [{ name: file.name, mime: file.type, size: file.size, local: URL.createObjectURL(file) }],
      });
      render(line);
      deliver(line);
    });
    scrollDown();
  }

  /* A line from the hub: replaces the pending line with the same client id. */
  function upsert(m) {
    var k = key(m);
    var line = state.lines[k];
    var isNew = !line;
    if (!line) line = state.lines[k] = { key: k };
    line.id = m.id;
    line.author = m.author;
    line.agent_name = m.agent_name;
    line.text = m.text;
    line.attachments = m.attachments;
    line.client_id = m.client_id;
    line.at = m.at;
    line.survey = m.survey === true;
    line.choices = m.choices || null;
    line.chosen = m.chosen || null;
    line.sort = m.id;
    line.state = "stored";
    render(line);
    // An answer to choices: the line that offered them shows which was chosen.
    if (m.chosen && m.chosen.offered_in && state.lines["i:" + m.chosen.offered_in]) {
      render(state.lines["i:" + m.chosen.offered_in]);
    }
    if (isNew && fromTeam(m)) showBadge();
  }

  /* A line the business sent: an agent's or the bot's. */
  function fromTeam(line) {
    return line.author === "agent" || line.author === "bot";
  }

  function unread() {
    var n = 0;
    state.order.forEach(function (k) {
      var l = state.lines[k];
      if (fromTeam(l) && l.id > state.lastRead) n++;
    });
    return n;
  }

  function showBadge() {
    var n = state.open ? 0 : unread();
    if (n > 0) {
      badge.textContent = String(n);
      badge.hidden = false;
      launcher.setAttribute("aria-label", "Open chat, " + n + " new");
    } else {
      badge.hidden = true;
      launcher.setAttribute("aria-label", state.open ? "Close chat" : "Open chat");
    }
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function markRead() {
    if (!state.open || document.hidden || !state.token) return;
    var last = 0;
    state.order.forEach(function (k) {
      var l = state.lines[k];
      if (fromTeam(l) && l.id > last) last = l.id;
    });
    if (last > state.lastRead) {
      state.lastRead = last;
      save(String(last), ".read");
      api("POST", "/chat/v1/read", { message_id: last }).catch(function () {
        /* the hub hears of it with the next line read */
      });
    }
    showBadge();
  }

  function setStatus(text) {
    status.textContent = text || "";
    status.hidden = !text;
  }

  /* ---- the hub ---- */

  function begin() {
    var body = { inbox: inbox };
    if (state.token) body.token = state.token;
    return api("POST", "/chat/v1/sessions", body).then(function (visit) {
      state.token = visit.token;
      save(visit.token);
      state.started = true;
      state.email = visit.email;
      if (!script.getAttribute("data-title")) heading.textContent = visit.inbox_name;
      if (!state.order.length) state.hasMore = visit.has_more;
      older.hidden = !state.hasMore;
      visit.messages.forEach(upsert);
      // The promise of a reply by email is made only where the hub keeps it.
      emailLabel.textContent = visit.email_fallback
        ? "Leave your email and we'll reply there if you go."
        : "Leave your email so we know who you are next time.";
      emailForm.hidden = !!state.email;
      scrollDown();
      connect();
      flush();
      markRead();
      suggest(); // what the visitor typed before the visit began
    });
  }

  /* The business closed this chat: say so, and stop reconnecting. */
  function closedForGood() {
    state.closed = true;
    setStatus("This chat has been closed by the business.");
  }

  function connect() {
    if (state.socket || state.closed) return;
    // The token goes as a subprotocol, never in the URL (which servers and proxies log).
    var url = hub.replace(/^http/, "ws") + "/chat/v1/socket";
    var ws = (state.socket = new WebSocket(url, ["switchboard", "bearer." + state.token]));
    ws.onopen = function () {
      state.retry = 0;
      setStatus("");
    };
    ws.onmessage = function (ev) {
      var frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (frame.type === "message") {
        var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
        upsert(frame.message);
        if (atBottom) scrollDown();
        markRead();
      }
    };
    ws.onclose = function (ev) {
      state.socket = null;
      if (ev && ev.code === 4403) return closedForGood();
      setStatus("Reconnecting…");
      var delay = Math.min(30000, 500 * Math.pow(2, state.retry++)) * (0.5 + Math.random() / 2);
      setTimeout(function () {
        // Resuming the visit fetches what arrived while the socket was down.
        begin().catch(function (e) {
          if (e && e.code === "forbidden") return closedForGood();
          ws.onclose();
        });
      }, delay);
    };
  }

  function newId() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map
      .call(a, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function deliver(line) {
    line.state = "pending";
    render(line);
    var start = state.started ? Promise.resolve() : begin();
    return start
      .then(function () {
        return line.file && !line.uploaded ? upload(line) : null;
      })
      .then(function () {
        var body = { client_id: line.client_id, text: line.text };
        if (line.uploaded) body.files = [line.uploaded];
        if (line.choiceFor) body.choice = { message_id: line.choiceFor, id: line.choiceId };
        return api("POST", "/chat/v1/messages", body);
      })
      .then(upsert, function (e) {
        line.state = "failed";
        render(line);
        setStatus(e.message);
      });
  }

  /* ---- articles, before the first message ---- */

  var articles = { timer: 0, seq: 0, query: "", ids: "", thanked: false };
  var MAX_QUERY_BYTES = 200;

  function newChat() {
    return !state.order.length && !state.hasMore;
  }

  /* The text cut to at most `max` bytes of UTF-8, never within a character. */
  function clip(text, max) {
    var out = "";
    var bytes = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      var ch = text.charAt(i);
      var n = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        var d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          ch = text.substr(i, 2);
          n = 4;
          i++;
        }
      }
      if (bytes + n > max) break;
      out += ch;
      bytes += n;
    }
    return out;
  }

  function hideArticles() {
    clearTimeout(articles.timer);
    articles.seq++; // an answer still on its way is dropped
    articles.query = "";
    articles.ids = "";
    articles.thanked = false;
    articlesBox.hidden = true;
  }

  /* As the visitor writes their first line: looks for articles once they pause. */
  function suggest() {
    var text = input.value.trim();
    if (!newChat() || text.length < 3) return hideArticles();
    if (articles.thanked) return; // the thanks stays until the box is cleared
    clearTimeout(articles.timer);
    articles.timer = setTimeout(function () {
      findArticles(clip(text, MAX_QUERY_BYTES).trim());
    }, 250);
  }

  function findArticles(q) {
    // The visit begins when the panel opens; once it has, suggest() runs again.
    if (!state.started || !newChat()) return;
    if (q === articles.query && !articlesBox.hidden) return;
    var seq = ++articles.seq;
    var params = new URLSearchParams({ q: q, locale: navigator.language || "en" });
    api("GET", "/chat/v1/articles?" + params.toString()).then(
      function (found) {
        if (seq !== articles.seq || !newChat() || input.value.trim().length < 3) return;
        showArticles(q, (found && found.articles) || []);
      },
      function () {
        // Too many searches (or none possible): nothing is offered.
        if (seq === articles.seq) hideArticles();
      }
    );
  }

  /* The help centre's page of an article: its own address, or the hub's. */
  function articleUrl(a) {
    if (typeof a.url === "string" && /^https?:\/\//i.test(a.url)) return a.url;
    return hub + "/help/articles/" + encodeURIComponent(a.key);
  }

  function showArticles(q, found) {
    if (!found.length) return hideArticles();
    articles.query = q;
    var ids = found
      .map(function (a) {
        return a.id;
      })
      .join(",");
    if (ids === articles.ids && !articlesBox.hidden) return; // the same list: no new announcement
    articles.ids = ids;
    articlesBox.textContent = "";
    articlesTitle.hidden = false;
    articlesBox.appendChild(articlesTitle);
    var list = el("ul");
    found.forEach(function (a) {
      var item = el("li", { "data-testid": "sb-article" });
      var titleId = "sbw-article-" + a.id;
      item.appendChild(el("a", { href: articleUrl(a), target: "_blank", rel: "noopener noreferrer", id: titleId }, a.title));
      if (a.snippet) item.appendChild(el("span", { class: "snippet" }, a.snippet));
      var helped = el("button", { type: "button", "data-testid": "sb-deflect", "aria-describedby": titleId }, "This answered my question");
      helped.addEventListener("click", function () {
        if (helped.disabled) return;
        helped.disabled = true;
        api("POST", "/chat/v1/deflections", { article_id: a.id }).then(
          function () {
            if (articlesBox.hidden || list.parentNode !== articlesBox) return; // the list has gone meanwhile
            thank();
          },
          function () {
            helped.disabled = false;
            setStatus("That could not be sent; try again.");
          }
        );
      });
      item.appendChild(helped);
      list.appendChild(item);
    });
    articlesBox.appendChild(list);
    articlesBox.hidden = false;
  }

  /* An article answered the question: the list gives way to thanks. */
  function thank() {
    clearTimeout(articles.timer);
    articles.seq++;
    articles.thanked = true;
    articlesBox.textContent = "";
    articlesTitle.hidden = true; // still names the region
    articlesBox.appendChild(articlesTitle);
    articlesBox.appendChild(el("p", { class: "thanks" }, "Glad it helped! Write to us any time."));
    articlesBox.hidden = false;
    input.focus();
  }

  function flush() {
    state.order.forEach(function (k) {
      var l = state.lines[k];
      if (l.state === "failed") deliver(l);
    });
  }

  compose.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    hideArticles();
    var cid = newId();
    var line = (state.lines["c:" + cid] = {
      key: "c:" + cid,
      client_id: cid,
      author: "visitor",
      text: text,
      at: Date.now(),
      sort: Number.MAX_SAFE_INTEGER,
    });
    render(line);
    scrollDown();
    deliver(line);
  });
  attachBtn.addEventListener("click", function () {
    var start = state.started ? Promise.resolve() : begin();
    start.then(
      function () {
        fileInput.click();
      },
      function (e) {
        setStatus(e.message);
      }
    );
  });
  fileInput.addEventListener("change", function () {
    var files = fileInput.files;
    sendFiles(files);
    fileInput.value = "";
  });
  // A pasted picture (a screenshot) is sent as a file; pasted text stays text.
  input.addEventListener("paste", function (ev) {
    var data = ev.clipboardData;
    if (data && data.files && data.files.length && !data.getData("text/plain")) {
      ev.preventDefault();
      sendFiles(data.files);
    }
  });
  panel.addEventListener("dragover", function (ev) {
    if (ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") >= 0) {
      ev.preventDefault();
      panel.classList.add("dropping");
    }
  });
  panel.addEventListener("dragleave", function () {
    panel.classList.remove("dropping");
  });
  panel.addEventListener("drop", function (ev) {
    panel.classList.remove("dropping");
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      ev.preventDefault();
      sendFiles(ev.dataTransfer.files);
    }
  });
  input.addEventListener("input", suggest);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      compose.requestSubmit();
    }
  });

  emailForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var email = emailInput.value.trim();
    var start = state.started ? Promise.resolve() : begin();
    start
      .then(function () {
        return api("POST", "/chat/v1/profile", { email: email });
      })
      .then(
        function () {
          state.email = email;
          emailForm.hidden = true;
          setStatus("");
        },
        function (e) {
          setStatus(e.message);
        }
      );
  });

  older.addEventListener("click", function () {
    var first = state.order.map(function (k) {
      return state.lines[k].id;
    }).filter(Boolean)[0];
    api("GET", "/chat/v1/messages?limit=50" + (first ? "&before=" + first : "")).then(function (page) {
      page.messages.forEach(upsert);
      state.hasMore = page.has_more;
      older.hidden = !page.has_more;
    });
  });

  function toggle(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    showBadge();
    if (open) {
      if (!state.started) {
        begin().catch(function (e) {
          setStatus(e.message);
        });
      }
      input.focus();
      scrollDown();
      markRead();
    }
  }
  launcher.addEventListener("click", function () {
    toggle(!state.open);
  });
  closeBtn.addEventListener("click", function () {
    toggle(false);
    launcher.focus();
  });
  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      toggle(false);
      launcher.focus();
    }
  });
  document.addEventListener("visibilitychange", markRead);

  // A returning visitor reconnects at once, so replies that arrived meanwhile show as unread.
  if (state.token) {
    begin().catch(function () {
      /* shown when the visitor opens the panel */
    });
  }

  window.Switchboard = {
    open: function () {
      toggle(true);
    },
    close: function () {
      toggle(false);
    },
  };
})();
