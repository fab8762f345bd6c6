// DSI Finance: behaviour shared by every page. No inline script anywhere (CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Forms marked data-confirm ask before a consequential action.
  document.body.addEventListener("submit", (event) => {
    const message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // A form submits once: a double click records once (the server checks too).
  document.body.addEventListener("submit", (event) => {
    if (event.defaultPrevented) return;
    // Disabled after the browser has taken the form's data, so the clicked button still counts.
    const buttons = event.target.querySelectorAll("button[type=submit]");
    setTimeout(() => buttons.forEach((button) => { button.disabled = true; }), 0);
  });
});
