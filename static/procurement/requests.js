// Purchase request form: add and remove line rows. No inline script (CSP).
// A new row is the formset's empty form (<template id="request-line-template">)
// with its __prefix__ replaced by the next index; a removed row is hidden with
// its DELETE box ticked (the formset then leaves it out, whatever it holds).
// Every change in the lines asks the server for their availability (htmx on
// #request-lines); removing a row asks too.
document.addEventListener("DOMContentLoaded", () => {
  const lines = document.getElementById("request-lines");
  const template = document.getElementById("request-line-template");
  const addButton = document.querySelector("[data-add-line]");
  if (!lines || !template || !addButton) return;
  const rows = document.getElementById("request-line-rows");
  const total = lines.querySelector("input[name$='-TOTAL_FORMS']");
  const max = parseInt(lines.dataset.maxLines, 10) || 50;

  const visibleRows = () => rows.querySelectorAll(".request-line:not(.d-none)");
  const refresh = () => {
    const count = visibleRows().length;
    addButton.disabled = count >= max;
    rows.querySelectorAll("[data-remove-line]").forEach((button) => {
      button.disabled = count <= 1;
    });
  };
  const askAvailability = () => {
    if (window.htmx) window.htmx.trigger(lines, "change");
  };

  addButton.addEventListener("click", () => {
    if (visibleRows().length >= max) return;
    const index = parseInt(total.value, 10) || 0;
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const row = rows.lastElementChild;
    if (window.htmx) window.htmx.process(row);
    const first = row.querySelector("input[type=text], select");
    if (first) first.focus();
    refresh();
  });

  rows.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-line]");
    if (!button || visibleRows().length <= 1) return;
    const row = button.closest(".request-line");
    const box = row.querySelector("input[name$='-DELETE']");
    if (box) box.checked = true;
    row.classList.add("d-none");
    refresh();
    askAvailability();
  });

  refresh();
});
