// The console's own script: keyboard shortcuts and small helpers (see templates). No library; every action
// here is also a plain link, button or form, so the pages work without it.
(function () {
  "use strict";

  // Keys typed into a field are text, never shortcuts.
  function typing(target) {
    if (!(target instanceof Element)) return false;
    return target.isContentEditable || target.closest("input, textarea, select") !== null;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link && link.href) window.location.assign(link.href);
    return Boolean(link);
  }

  function openBox(boxId, focusSelector) {
    var box = document.getElementById(boxId);
    if (!box) return false;
    box.open = true;
    var field = box.querySelector(focusSelector);
    if (field) {
      field.focus();
      if (field.setSelectionRange && field.value !== undefined) field.setSelectionRange(field.value.length, field.value.length);
    }
    box.scrollIntoView({ block: "nearest" });
    return true;
  }

  // The queue: j / k move the selection over the rows, Enter opens the selected ticket.
  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("table#queue tbody tr[data-ticket-id]"));
  }

  function select(rows, index) {
    rows.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-selected"); });
    var row = rows[Math.max(0, Math.min(index, rows.length - 1))];
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function onQueue(key) {
    var rows = queueRows();
    if (!rows.length) return false;
    var current = rows.findIndex(function (row) { return row.classList.contains("selected"); });
    if (key === "j") select(rows, current < 0 ? 0 : current + 1);
    else if (key === "k") select(rows, current < 0 ? 0 : current - 1);
    else if (key === "Enter" && current >= 0) window.location.assign(rows[current].dataset.href);
    else return false;
    return true;
  }

  // A ticket: a approve, e edit, r reject, j / k the next / previous ticket of the queue.
  function onTicket(key) {
    if (key === "a") {
      var approve = document.getElementById("approve");
      if (!approve) return false;
      approve.click();
      return true;
    }
    if (key === "e") return openBox("edit-box", "textarea");
    if (key === "r") return openBox("reject-box", "select");
    if (key === "j") return follow("a#next-ticket");
    if (key === "k") return follow("a#prev-ticket");
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "Enter" && event.target instanceof Element && event.target.closest("a, button, summary")) return;
    var handled = document.querySelector("table#queue") ? onQueue(event.key)
      : document.getElementById("draft") ? onTicket(event.key) : false;
    if (handled) event.preventDefault();
  });

  // A click anywhere on a queue row opens its ticket, like its link.
  document.addEventListener("click", function (event) {
    var row = event.target instanceof Element ? event.target.closest("table#queue tbody tr[data-href]") : null;
    if (row && !event.target.closest("a, button, input, select")) window.location.assign(row.dataset.href);
  });
})();
