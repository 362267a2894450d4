// The researcher's admin pages: copy buttons, and panels that refresh themselves from a JSON endpoint
// (a study's live monitor, a render job's progress, a dry run's state) without reloading the page.
"use strict";

function durationText(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  seconds = Math.round(seconds);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours) return `${hours} h ${minutes} min`;
  return minutes ? `${minutes} min ${rest} s` : `${rest} s`;
}

function rateText(row) {
  if (row.completion_rate === null) return "—";
  return `${Math.round(100 * row.completion_rate)}% (${row.completed} of ${row.started})`;
}

function agoText(date) {
  const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} days ago`;
}

function setTime(element, iso, empty = "none yet", relative = true) {
  if (!element) return;
  if (!iso) {
    element.textContent = empty;
    return;
  }
  const date = new Date(iso);
  element.dataset.time = iso;
  element.title = date.toLocaleString();
  element.textContent = relative ? `${agoText(date)} (${date.toLocaleTimeString()})` : date.toLocaleTimeString();
}

function cells(row) {
  const tr = document.createElement("tr");
  const head = document.createElement("th");
  head.scope = "row";
  head.textContent = row.name;
  tr.append(head);
  for (const value of [row.started, row.in_progress, row.completed, row.abandoned, rateText(row)]) {
    const td = document.createElement("td");
    td.textContent = value;
    tr.append(td);
  }
  return tr;
}

const renderers = {
  monitor(panel, data) {
    panel.querySelector('[data-monitor="rows"]').replaceChildren(...data.conditions.map(cells));
    panel.querySelector('[data-monitor="total"]').replaceChildren(cells(data.total));
    panel.querySelector('[data-monitor="median"]').textContent = durationText(data.median_duration_seconds);
    setTime(panel.querySelector('[data-monitor="last"]'), data.last_activity);
    setTime(panel.querySelector('[data-monitor="as-of"]'), data.as_of, "", false);
    return true;
  },
  job(panel, data) {
    const bar = panel.querySelector("progress");
    bar.max = Math.max(data.total, 1);
    bar.value = data.done;
    panel.querySelector('[data-job="text"]').textContent = data.text;
    if (data.finished) window.location.reload(); // the finished page shows the study or the error
    return !data.finished;
  },
  reload(panel, data) {
    if (data.finished) window.location.reload();
    return !data.finished;
  },
};

function poll(panel) {
  const seconds = Number(panel.dataset.liveSeconds || 5);
  const render = renderers[panel.dataset.liveKind];
  const tick = async () => {
    try {
      const response = await fetch(panel.dataset.liveUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok && render(panel, await response.json()) === false) return;
    } catch (error) {
      // Offline for a moment: try again at the next tick.
    }
    window.setTimeout(tick, seconds * 1000);
  };
  window.setTimeout(tick, seconds * 1000);
}

async function copy(button) {
  const field = document.querySelector(button.dataset.copy);
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch (error) {
    field.select(); // no clipboard API here (a plain-http host): the old way
    copied = document.execCommand("copy");
  }
  const status = document.querySelector(".copy-status");
  if (status) status.textContent = copied ? "Copied to the clipboard." : "Select the link and press Ctrl+C.";
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy]")) button.addEventListener("click", () => copy(button));
  for (const element of document.querySelectorAll('[data-monitor="last"]')) setTime(element, element.dataset.time);
  for (const element of document.querySelectorAll('[data-monitor="as-of"]')) setTime(element, element.dataset.time, "", false);
  for (const panel of document.querySelectorAll("[data-live-url]")) poll(panel);
});
