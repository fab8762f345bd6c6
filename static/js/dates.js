// Date fields written jj/mm/aaaa whatever the browser's language (dsi_finance/widgets.py).
// Every input marked data-date-input gets a calendar (vanillajs-datepicker, vendored),
// in the page's language, and reads what is typed with the server's rules: 08/12/2026,
// 8/12/2026, 08.12.2026, 08122026 or 2026-12-08; never month first. What cannot be
// read stays as typed (marked invalid) so that the server names the mistake, instead
// of the picker silently putting back the previous date.
(() => {
  "use strict";

  // Keep in step with dsi_finance/widgets.py (parse_day_first_date).
  const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;
  const DAY_FIRST = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/;
  const COMPACT = /^(\d{2})(\d{2})(\d{4})$/;

  function parseDayFirst(text) {
    const value = (text || "").trim();
    let day;
    let month;
    let year;
    let match;
    if ((match = ISO.exec(value))) {
      [, year, month, day] = match;
    } else if ((match = DAY_FIRST.exec(value))) {
      [, day, , month, year] = match;
    } else if ((match = COMPACT.exec(value))) {
      [, day, month, year] = match;
    } else {
      return NaN;
    }
    [day, month, year] = [Number(day), Number(month), Number(year)];
    const date = new Date(year, month - 1, day);
    date.setFullYear(year); // years below 100 are not 19xx
    const exists = date.getFullYear() === year && date.getMonth() === month - 1
      && date.getDate() === day;
    return exists && year >= 1 ? date : NaN;
  }

  function formatDayFirst(date) {
    const pad = (number, width) => String(number).padStart(width, "0");
    return `${pad(date.getDate(), 2)}/${pad(date.getMonth() + 1, 2)}/${pad(date.getFullYear(), 4)}`;
  }

  const FORMAT = {
    toValue: (text) => parseDayFirst(text),
    toDisplay: (date) => formatDayFirst(date),
  };

  function language() {
    const lang = (document.documentElement.lang || "fr").toLowerCase();
    return lang.startsWith("fr") && window.Datepicker.locales.fr ? "fr" : "en";
  }

  // Typing 0812 gives 08/12/ : the slashes come by themselves (a numeric keyboard has none).
  function insertSlashes(event) {
    const input = event.target;
    if (event.inputType !== "insertText" || input.selectionStart !== input.value.length) return;
    let value = input.value.replace(/\/{2,}/g, "/");
    if (/^\d{2}$/.test(value) || /^\d{1,2}\/\d{2}$/.test(value)) value += "/";
    if (value !== input.value) input.value = value;
  }

  function markValidity(input) {
    const text = input.value.trim();
    const invalid = text !== "" && Number.isNaN(parseDayFirst(text));
    input.classList.toggle("is-invalid", invalid);
    if (invalid) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    return !invalid;
  }

  function attach(input) {
    if (input.datepicker || input.readOnly || input.disabled) return;
    const typed = input.value; // the picker empties text it cannot read (a refused value)
    const picker = new window.Datepicker(input, {
      language: language(),
      format: FORMAT,
      weekStart: 1,
      autohide: true,
      showOnFocus: false, // tabbing through a form opens nothing; a click or ↓ does
      showOnClick: true,
      todayHighlight: true,
      todayButton: true,
      todayButtonMode: 1,
      clearButton: !input.required,
      buttonClass: "btn",
      updateOnBlur: true,
    });
    // The picker puts back the previous date when the text cannot be read: keep the
    // text instead (the field turns red, the server's message says what is wrong).
    const update = picker.update.bind(picker);
    let typing = false;
    picker.update = (options) => {
      if (!markValidity(input)) return;
      typing = true;
      try {
        update(options);
      } finally {
        typing = false;
      }
    };
    if (typed && Number.isNaN(parseDayFirst(typed))) {
      input.value = typed;
      markValidity(input);
    }
    input.addEventListener("input", insertSlashes);
    input.addEventListener("input", () => {
      if (input.classList.contains("is-invalid")) markValidity(input);
    });
    // A day chosen in the calendar is a change like a typed one (htmx triggers, totals);
    // a typed one already has its own change event.
    input.addEventListener("changeDate", () => {
      markValidity(input);
      if (!typing) input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function attachAll(root) {
    if (!window.Datepicker || !root || !root.querySelectorAll) return;
    if (root.matches && root.matches("input[data-date-input]")) attach(root);
    root.querySelectorAll("input[data-date-input]").forEach(attach);
  }

  if (window.Datepicker && window.Datepicker.locales.fr) {
    // Two letters a day (« l ma me j » reads oddly) and the typographic apostrophe.
    Object.assign(window.Datepicker.locales.fr, {
      daysMin: ["di", "lu", "ma", "me", "je", "ve", "sa"],
      today: "Aujourd’hui",
    });
  }
  // htmx:load fires for the page and for every fragment htmx swaps in.
  document.addEventListener("htmx:load", (event) => attachAll(event.detail.elt));
  document.addEventListener("DOMContentLoaded", () => attachAll(document.body));
  // A fragment swapped out takes its pickers with it (their document listeners too).
  // (htmx cleans every element of the fragment, one event each.)
  document.addEventListener("htmx:beforeCleanupElement", (event) => {
    const element = event.detail.elt;
    if (element && element.datepicker) element.datepicker.destroy();
  });
})();
