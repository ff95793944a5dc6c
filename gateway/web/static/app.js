// The web view's live parts: the message flow over Server-Sent Events, its filters, and the
// device controls. Every text from the gateway goes in with textContent, never as HTML.
"use strict";

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function matches(row, form) {
  for (const name of ["device", "sender", "srv", "outcome"]) {
    const wanted = form.elements[name].value.trim().toUpperCase();
    if (wanted && !(row.dataset[name] || "").toUpperCase().includes(wanted)) return false;
  }
  return true;
}

function applyFilters() {
  const form = document.getElementById("filters");
  for (const row of document.querySelectorAll("#flow tbody tr")) {
    row.hidden = !matches(row, form);
  }
}

function addRow(e) {
  const body = document.querySelector("#flow tbody");
  const row = document.createElement("tr");
  row.dataset.key = e.requestId || "";
  row.dataset.device = e.device || "";
  row.dataset.sender = e.sender || "";
  row.dataset.srv = e.srv || "";
  const outcome = e.code.startsWith("E") ? "refused" : e.code === "I99" ? "pending" : "done";
  row.dataset.outcome = outcome;
  cell(row, e.at);
  const link = cell(row, "");
  if (e.requestId) {
    const a = document.createElement("a");
    a.href = "/requests/" + encodeURIComponent(e.requestId);
    a.textContent = e.requestId;
    link.appendChild(a);
  } else {
    link.textContent = "(none)";
  }
  cell(row, (e.srv || "") + " " + (e.name || ""));
  cell(row, e.sender);
  cell(row, e.device);
  cell(row, e.code).title = e.reason || "";
  cell(row, outcome, "outcome " + outcome);
  cell(row, "", "final");
  body.insertBefore(row, body.firstChild);
  row.hidden = !matches(row, document.getElementById("filters"));
}

function finish(e) {
  for (const row of document.querySelectorAll("#flow tbody tr")) {
    if (row.dataset.key === e.requestId) {
      row.dataset.outcome = e.type;
      const outcome = row.querySelector(".outcome");
      outcome.textContent = e.type;
      outcome.className = "outcome " + e.type;
      row.querySelector(".final").textContent = e.code + " " + e.at;
      row.hidden = !matches(row, document.getElementById("filters"));
      return;
    }
  }
}

function liveFlow() {
  const status = document.getElementById("status");
  const source = new EventSource("/admin/events");
  source.onopen = () => { status.textContent = "live"; };
  source.onerror = () => { status.textContent = "reconnecting..."; };
  source.addEventListener("sr-received", (m) => addRow(JSON.parse(m.data)));
  source.addEventListener("response", (m) => finish(JSON.parse(m.data)));
  source.addEventListener("dcc-alert", (m) => finish(JSON.parse(m.data)));
  const form = document.getElementById("filters");
  form.addEventListener("input", applyFilters);
  applyFilters();
}

async function deviceAction(section, button) {
  const eui = section.dataset.eui;
  const done = section.querySelector(".done");
  const action = button.dataset.action;
  if (action !== "refresh") {
    let value = null;
    if (button.dataset.ask) {
      value = window.prompt(button.dataset.ask, button.dataset.default);
      if (value === null) return;
    }
    const answer = await fetch("/admin/devices/" + encodeURIComponent(eui), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ action: action, value: value }),
    });
    const result = await answer.json();
    done.textContent = result.done || result.error;
  }
  // The device's own page, parsed (never run) and its section swapped in: the server
  // renders it, escaped, as it renders the whole list.
  const page = await fetch("/devices/" + encodeURIComponent(eui));
  const parsed = new DOMParser().parseFromString(await page.text(), "text/html");
  const fresh = parsed.querySelector("section.device");
  if (!fresh) return;
  fresh.querySelector(".done").textContent = done.textContent;
  const opened = [...section.querySelectorAll("details")].map((d) => d.open);
  fresh.querySelectorAll("details").forEach((d, i) => { d.open = !!opened[i]; });
  section.replaceWith(fresh);
  const clock = parsed.querySelector(".clock");
  const shown = document.querySelector(".clock");
  if (clock && shown) shown.replaceWith(clock);
  wireDevice(fresh);
}

function wireDevice(section) {
  for (const button of section.querySelectorAll("button")) {
    button.addEventListener("click", () => deviceAction(section, button));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("flow")) liveFlow();
  for (const section of document.querySelectorAll(".device")) wireDevice(section);
});
