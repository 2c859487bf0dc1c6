// Minimal room client: connects, shows messages, sends. The full page is built in issue #6.
const root = document.getElementById("room");
const list = document.getElementById("messages");
const statusLine = document.getElementById("status");
const banner = document.getElementById("banner");
const composer = document.getElementById("composer");
const input = document.getElementById("text");
const sessionId = root.dataset.sessionId;
let lastSeq = null;
let retry = 0;

function addMessage(m) {
  if (lastSeq !== null && m.seq <= lastSeq) return;
  lastSeq = m.seq;
  const item = document.createElement("li");
  item.id = `m${m.message_id}`;
  const who = document.createElement("strong");
  who.textContent = `${m.display_name}: `;
  const body = document.createElement("span");
  body.innerHTML = m.html; // sanitized by the server: only <a> and <br>
  item.append(who, body);
  list.append(item);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const since = lastSeq === null ? "" : `?since=${lastSeq}`;
  const ws = new WebSocket(`${scheme}://${location.host}/ws/sessions/${sessionId}/${since}`);
  ws.onopen = () => { retry = 0; banner.hidden = true; };
  ws.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "session.state") {
      statusLine.textContent = `Session is ${frame.session.status}.`;
      frame.messages.forEach(addMessage);
    } else if (frame.type === "chat.message") {
      addMessage(frame);
    } else if (frame.type === "message.removed") {
      document.getElementById(`m${frame.message_id}`)?.remove();
    } else if (frame.type === "session.status") {
      statusLine.textContent = `Session is ${frame.status}.`;
    } else if (frame.type === "error") {
      document.getElementById("composer-reason").textContent = frame.message;
    }
  };
  ws.onclose = (event) => {
    if ([4401, 4403, 4404, 4410].includes(event.code)) {
      statusLine.textContent = event.code === 4410 ? "This session has ended." : "You can't be in this room.";
      return;
    }
    banner.hidden = false;
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 500 * 2 ** retry);
  };
  composer.onsubmit = (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    ws.send(JSON.stringify({ type: "chat.send", text: input.value, ref: crypto.randomUUID?.() ?? String(Date.now()) }));
    input.value = "";
  };
}
connect();
