// Commitments, orders and receipts: the behaviour of their forms (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  // "Add a line": a copy of the formset's empty row, numbered after the last one.
  document.querySelectorAll("[data-add-line]").forEach((button) => {
    button.addEventListener("click", () => {
      const body = document.getElementById(button.dataset.addLine);
      const template = document.getElementById(button.dataset.template);
      const total = document.getElementById(`id_${button.dataset.prefix}-TOTAL_FORMS`);
      const max = document.getElementById(`id_${button.dataset.prefix}-MAX_NUM_FORMS`);
      const index = Number(total.value);
      if (max && index >= Number(max.value)) return;
      const holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replaceAll("__prefix__", String(index));
      const row = holder.firstElementChild;
      body.appendChild(row);
      total.value = String(index + 1);
      if (window.htmx) window.htmx.process(row);
      const first = row.querySelector("select, input");
      if (first) first.focus();
    });
  });
  // "Receive everything": each quantity gets what is left to receive on its line.
  document.querySelectorAll("[data-receive-all]").forEach((button) => {
    button.addEventListener("click", () => {
      const form = button.closest("form");
      form.querySelectorAll("input.receipt-quantity").forEach((input) => {
        if (!input.disabled && input.dataset.left) input.value = input.dataset.left.replace(".", ",");
      });
    });
  });
});
