// The archive run page asks for the run's state until it ends, then shows its summary.
"use strict";
(() => {
  const POLL_MS = 1000;

  function list(element, entries, render) {
    element.replaceChildren();
    if (!entries.length) {
      const none = document.createElement("li");
      none.textContent = "none";
      element.append(none);
    }
    for (const entry of entries) {
      const li = document.createElement("li");
      li.append(render(entry));
      element.append(li);
    }
  }

  function show(page, state) {
    const status = page.querySelector("#archive-run-status");
    status.textContent = state.status.charAt(0).toUpperCase() + state.status.slice(1);
    status.className = `run-status run-${state.status}`;
    if (!state.finished) {
      return;
    }
    page.dataset.finished = "true";
    page.querySelector("#archive-run-progress").hidden = true;
    const outcome = state.outcome || state.status;
    page.querySelector("#archive-run-outcome").textContent =
      outcome.charAt(0).toUpperCase() + outcome.slice(1);
    page.querySelector("#archive-run-reason").textContent = state.reason;
    list(page.querySelector("#archive-run-counts"), state.counts, (count) =>
      document.createTextNode(`${count.value} ${count.name}`),
    );
    list(page.querySelector("#archive-run-items"), state.items, (item) => {
      const link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.description;
      return link;
    });
    page.querySelector("#archive-run-summary").hidden = false;
  }

  async function poll(page) {
    try {
      const response = await fetch(page.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        show(page, await response.json());
      }
    } catch (error) {
      // A dropped request is retried on the next tick.
    }
    if (page.dataset.finished !== "true") {
      window.setTimeout(() => poll(page), POLL_MS);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.getElementById("archive-run");
    if (page && page.dataset.finished !== "true") {
      window.setTimeout(() => poll(page), POLL_MS);
    }
  });
})();
