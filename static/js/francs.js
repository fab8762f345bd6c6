// Amounts in francs: beside every input marked data-francs (dsi_finance.forms.FrancsInput,
// or a hand-written input with data-francs="{% url 'francs-echo' %}"), show as one types
// what the server understands: "= 250 000 F CFP", or the French reason it is refused.
// The reading is the server's own parser (dsi_finance.money.parse_francs, through the
// kernel view at the data-francs URL): no second parser here. No inline script (CSP).
//
// Where the echo goes: the element whose id is the input's id + "-echo", else an
// element [data-francs-echo] right after the input, else one created after it.
// An input with data-francs-currency="<selector>" echoes only while that field holds
// XPF (an invoice line's amount is in the invoice's currency).
(() => {
  const DELAY_MS = 250;
  const pending = new WeakMap();
  const sequence = new WeakMap();

  const echoFor = (input) => {
    let echo = input.id ? document.getElementById(`${input.id}-echo`) : null;
    const next = input.nextElementSibling;
    if (!echo && next && next.matches("[data-francs-echo]")) echo = next;
    if (!echo) {
      echo = document.createElement("div");
      echo.className = "form-text francs-echo mt-1";
      echo.setAttribute("data-francs-echo", "");
      echo.setAttribute("data-testid", "francs-echo");
      echo.setAttribute("aria-live", "polite");
      if (input.id) echo.id = `${input.id}-echo`;
      input.insertAdjacentElement("afterend", echo);
    }
    return echo;
  };

  const inFrancs = (input) => {
    const selector = input.dataset.francsCurrency;
    if (!selector) return true;
    const scope = input.form || document;
    const currency = scope.querySelector(selector);
    return !currency || !currency.value || currency.value.trim().toUpperCase() === "XPF";
  };

  const echo = (input) => {
    const target = echoFor(input);
    const value = input.value.trim();
    const number = (sequence.get(input) || 0) + 1;
    sequence.set(input, number);
    if (!value || !inFrancs(input)) {
      target.innerHTML = "";
      understood(input, value, null);
      return;
    }
    const url = new URL(input.dataset.francs || "/montant/", window.location.origin);
    url.searchParams.set("value", value);
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then((response) => {
        if (!response.ok || response.redirected) return null;
        return response.text().then((html) => ({
          html,
          francs: response.headers.get("X-Francs-Value") || "",
        }));
      })
      .then((answer) => {
        // Only the answer to the latest keystroke is shown.
        if (!answer || sequence.get(input) !== number) return;
        target.innerHTML = answer.html;
        understood(input, value, answer.francs === "" ? null : Number(answer.francs));
      })
      .catch(() => {});
  };

  // The figure the server read, for the page's own sums (the invoice totals): set on
  // the input with the text it was read from, and announced by a "francs:read" event.
  const understood = (input, text, francs) => {
    input.dataset.francsText = text;
    if (francs === null) delete input.dataset.francsValue;
    else input.dataset.francsValue = String(francs);
    input.dispatchEvent(new CustomEvent("francs:read", { bubbles: true }));
  };

  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-francs")) return;
    clearTimeout(pending.get(input));
    pending.set(input, setTimeout(() => echo(input), DELAY_MS));
  });
})();
