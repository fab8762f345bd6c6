// Invoices: the entry form's lines (add, remove) and its totals, computed as the
// assistant types. No inline script anywhere (CSP). The matching region is swapped by
// htmx when the supplier or the commitment changes: every listener is delegated.
// The totals shown are a help; the server computes the recorded ones.
(() => {
  const SPACES = /[\s\u00a0\u202f]/g;

  function parse(text) {
    const clean = String(text ?? "").replace(SPACES, "").replace(",", ".");
    if (clean === "") return null;
    const value = Number(clean);
    return Number.isFinite(value) ? value : null;
  }

  // An amount in XPF as the server read it (static/js/francs.js asks it as one types:
  // "250.000" is 250 000, "250.5" is refused), never read here with a decimal point;
  // plain digits (a form shown again) need no asking. Null until read, or refused.
  function francsOf(input) {
    const text = String(input?.value ?? "").trim();
    if (text === "") return null;
    if (input.dataset.francsText === text) {
      return "francsValue" in input.dataset ? Number(input.dataset.francsValue) : null;
    }
    return /^[\d\s\u00a0\u202f]+$/.test(text) ? Number(text.replace(SPACES, "")) : null;
  }

  function roundHalfUp(value, decimals) {
    const factor = 10 ** decimals;
    return (Math.sign(value) * Math.round(Math.abs(value) * factor + 1e-7)) / factor;
  }

  function format(value, decimals) {
    const language = document.documentElement.lang || "fr";
    return value.toLocaleString(language, {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
  }

  function showDifference(form, box, code, ttc, decimals, suffix) {
    const row = box.querySelector("[data-control-row]");
    const input = form.querySelector("[data-invoice-control]");
    if (!row || !input) return;
    // The supplier's total as typed: in XPF as the server read it (like the lines).
    const control = code === "XPF" ? francsOf(input) : parse(input.value);
    row.hidden = control === null;
    if (control === null) return;
    const difference = roundHalfUp(control - ttc, decimals);
    const cell = row.querySelector("[data-total=difference]");
    cell.textContent = format(Math.abs(difference), decimals) + suffix;
    cell.classList.toggle("text-danger", difference !== 0);
    cell.classList.toggle("text-success", difference === 0);
    cell.dataset.difference = String(difference);
  }

  function rateOf(select) {
    const option = select && select.options[select.selectedIndex];
    return option ? parse(option.textContent.replace("%", "")) : null;
  }

  function currencyOf(form, region) {
    const field = form.querySelector("[name=currency]");
    const code = ((field && field.value) || "XPF").trim().toUpperCase();
    if (code === "XPF") return { code, rate: 1 };
    if (code === "EUR") return { code, rate: parse(region.dataset.eurParity) };
    const rate = form.querySelector("[name=exchange_rate]");
    return { code, rate: parse(rate && rate.value) };
  }

  function addTax(bases, rate, amount) {
    bases.set(rate, (bases.get(rate) || 0) + amount);
  }

  function sumTotals(bases, decimals) {
    let ht = 0;
    let tax = 0;
    bases.forEach((base, rate) => {
      ht += base;
      tax += roundHalfUp((base * rate) / 100, decimals);
    });
    return { ht: roundHalfUp(ht, decimals), tax: roundHalfUp(tax, decimals) };
  }

  function updateTotals() {
    const region = document.getElementById("invoice-matching");
    if (!region) return;
    const form = region.closest("form");
    const box = region.querySelector("[data-invoice-totals]");
    const { code, rate } = currencyOf(form, region);
    const decimals = code === "XPF" ? 0 : 2;
    const inCurrency = new Map();
    const inFrancs = new Map();
    region.querySelectorAll("tr.invoice-line-row").forEach((row) => {
      if (row.hidden) return;
      const input = row.querySelector(".invoice-amount");
      const amount = code === "XPF" ? francsOf(input) : parse(input?.value);
      const percent = rateOf(row.querySelector(".invoice-rate"));
      if (amount === null || percent === null) return;
      addTax(inCurrency, percent, amount);
      if (rate) addTax(inFrancs, percent, roundHalfUp(amount * rate, 0));
    });
    const totals = sumTotals(inCurrency, decimals);
    const suffix = code === "XPF" ? "\u00a0F\u00a0CFP" : `\u00a0${code}`;
    box.querySelector("[data-total=ht]").textContent = format(totals.ht, decimals) + suffix;
    box.querySelector("[data-total=tax]").textContent = format(totals.tax, decimals) + suffix;
    box.querySelector("[data-total=ttc]").textContent =
      format(totals.ht + totals.tax, decimals) + suffix;
    showDifference(form, box, code, roundHalfUp(totals.ht + totals.tax, decimals), decimals, suffix);
    const francs = box.querySelector("[data-xpf-row]");
    francs.hidden = code === "XPF";
    if (code !== "XPF") {
      const xpf = sumTotals(inFrancs, 0);
      box.querySelector("[data-total=xpf-ht]").textContent = rate
        ? `${format(xpf.ht, 0)}\u00a0F\u00a0CFP`
        : "—";
    }
    region.querySelectorAll("[data-currency-label]").forEach((label) => {
      label.textContent = `(${code})`;
    });
  }

  function addLine() {
    const body = document.getElementById("invoice-lines");
    const template = document.getElementById("invoice-line-template");
    const total = document.getElementById("id_lines-TOTAL_FORMS");
    const max = document.getElementById("id_lines-MAX_NUM_FORMS");
    if (!body || !template || !total) return;
    const index = Number(total.value);
    if (max && index >= Number(max.value)) return;
    const holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replaceAll("__prefix__", String(index));
    const row = holder.querySelector("tr");
    body.appendChild(row);
    total.value = String(index + 1);
    if (window.htmx) window.htmx.process(row);
    const first = row.querySelector("select, input:not([type=checkbox])");
    if (first) first.focus();
    updateTotals();
  }

  function removeLine(button) {
    const row = button.closest("tr");
    const box = row.querySelector("input.invoice-delete");
    if (box) box.checked = true;
    row.hidden = true;
    updateTotals();
  }

  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-invoice-add-line]");
    if (add) {
      event.preventDefault();
      addLine();
      return;
    }
    const remove = event.target.closest("[data-invoice-remove-line]");
    if (remove) {
      event.preventDefault();
      removeLine(remove);
    }
  });
  document.addEventListener("input", (event) => {
    if (event.target.closest("[data-testid=invoice-form]")) updateTotals();
  });
  document.addEventListener("change", (event) => {
    if (event.target.closest("[data-testid=invoice-form]")) updateTotals();
  });
  document.addEventListener("francs:read", updateTotals);
  document.addEventListener("htmx:afterSwap", updateTotals);
  document.addEventListener("DOMContentLoaded", updateTotals);
})();
