// BP/DM revision editor (templates/budgets/revision_detail.html). No inline script (CSP).
//
// - Counts the edited rows ("3 lignes modifiées non enregistrées") and warns before
//   leaving the page while some are not saved (beforeunload).
// - Recomputes each edited row's new amount (opened credits before the revision +
//   the typed amount or change) and the totals by section as they are typed. The
//   figure is the server's reading: the echo of static/js/francs.js (the input is a
//   data-francs field) sets data-francs-value for the text it read. Until it answers,
//   only what cannot be misread is computed here (digits, possibly grouped by three
//   with spaces); anything else shows "?" (no second parser of amounts here).
// - "Save all" posts only the edited rows, in one POST; the server saves them all or
//   none and sends every faulty row back with its message and what was typed.
// Amounts are BigInt: francs are whole, and sums stay exact.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-revision-editor]");
  if (!form) return;
  const NNBSP = "\u202f";
  const NBSP = "\u00a0";
  const SPACES = /[\s\u00a0\u202f\u2009]+/g;
  const PLAIN = /^[+-]?\d+$/;
  const GROUPED = /^[+-]?\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+$/;
  const amending = form.dataset.amending === "true";
  const rows = Array.from(form.querySelectorAll("tr[data-row]"));
  const counter = form.querySelector("[data-unsaved-count]");
  const saveButton = form.querySelector("button[type=submit]");
  let unsaved = 0;
  let submitting = false;

  const compact = (text) => (text || "").replace(SPACES, "").replace(/^\+/, "");
  const sameText = (text) => (text || "").replace(/\r\n/g, "\n").trim();

  // The typed amount in francs, 0n when empty, null when not (yet) read as a number.
  const readFrancs = (input) => {
    const typed = input.value.trim();
    if (typed === "") return 0n;
    if (input.dataset.francsText === typed) {
      // The server's echo for this very text: its figure, or refused.
      const value = input.dataset.francsValue;
      return value === undefined || value === "" ? null : BigInt(value);
    }
    if (!PLAIN.test(typed) && !GROUPED.test(typed)) return null;
    return BigInt(typed.replace(SPACES, ""));
  };

  const formatXpf = (value, signed) => {
    const negative = value < 0n;
    const digits = (negative ? -value : value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, NNBSP);
    const sign = negative ? "-" : signed && value > 0n ? "+" : "";
    return `${sign}${digits}${NBSP}F${NBSP}CFP`;
  };

  const stateOf = (row) => {
    const amount = row.querySelector("[data-amount]");
    const justification = row.querySelector("[data-justification]");
    const saved = row.dataset.savedChange === "" ? 0n : BigInt(row.dataset.savedChange);
    const amountEdited = compact(amount.value) !== compact(amount.dataset.saved);
    const edited =
      amountEdited || sameText(justification.value) !== sameText(justification.dataset.saved);
    const typed = amountEdited ? readFrancs(amount) : saved;
    return { edited, saved, typed, empty: amount.value.trim() === "" };
  };

  const refresh = () => {
    unsaved = 0;
    const deltas = new Map(); // section code -> BigInt change of its totals, or null
    rows.forEach((row) => {
      const state = stateOf(row);
      if (state.edited) unsaved += 1;
      row.classList.toggle("table-warning", state.edited && !row.classList.contains("table-danger"));
      const badge = row.querySelector("[data-dirty-badge]");
      if (badge) badge.classList.toggle("d-none", !state.edited);
      const cell = row.querySelector("[data-new]");
      const section = row.closest("tbody").dataset.section;
      const before = deltas.has(section) ? deltas.get(section) : 0n;
      if (state.typed === null) {
        cell.textContent = "?";
        cell.title = form.dataset.unread || "";
        cell.classList.remove("text-danger");
        deltas.set(section, null);
        return;
      }
      const newAmount = BigInt(row.dataset.previous) + state.typed;
      cell.textContent = formatXpf(newAmount, false);
      cell.removeAttribute("title");
      cell.classList.toggle(
        "text-danger",
        !state.empty && newAmount < BigInt(row.dataset.committed || "0"),
      );
      deltas.set(section, before === null ? null : before + state.typed - state.saved);
    });
    let grand = 0n;
    deltas.forEach((delta) => {
      grand = grand === null || delta === null ? null : grand + delta;
    });
    document.querySelectorAll("[data-sum][data-value]").forEach((cell) => {
      const code = cell.dataset.section;
      const delta = code === "*" ? grand : deltas.has(code) ? deltas.get(code) : 0n;
      cell.textContent =
        delta === null
          ? "?"
          : formatXpf(BigInt(cell.dataset.value) + delta, amending && cell.dataset.sum === "change");
    });
    if (counter) {
      const template = unsaved === 1 ? form.dataset.unsavedOne : form.dataset.unsavedOther;
      counter.textContent = unsaved ? (template || "").replace("{count}", String(unsaved)) : "";
    }
    if (saveButton) saveButton.disabled = unsaved === 0;
  };

  form.addEventListener("input", refresh);
  form.addEventListener("francs:read", refresh); // the server's echo came back

  window.addEventListener("beforeunload", (event) => {
    if (submitting || unsaved === 0) return;
    event.preventDefault();
    event.returnValue = ""; // the browser shows its own words
  });

  form.addEventListener("submit", (event) => {
    if (event.defaultPrevented) return;
    submitting = true;
    // Only the edited rows travel: a disabled field is not posted.
    rows.forEach((row) => {
      if (!stateOf(row).edited) {
        row.querySelectorAll("input, textarea").forEach((field) => {
          field.disabled = true;
        });
      }
    });
  });

  // Back to this page from the history: everything usable again.
  window.addEventListener("pageshow", () => {
    submitting = false;
    form.querySelectorAll("input:disabled, textarea:disabled").forEach((field) => {
      field.disabled = false;
    });
    refresh();
  });

  refresh();
});
