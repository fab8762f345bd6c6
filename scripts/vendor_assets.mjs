// Copies the front-end assets installed by npm into static/vendor/, so that
// Django's staticfiles (and WhiteNoise in production) serve them from our own
// origin: the users' network may have no access to a CDN.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");

const files = {
  "bootstrap/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
  "bootstrap/dist/css/bootstrap.min.css.map": "bootstrap/bootstrap.min.css.map",
  "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
  "bootstrap/dist/js/bootstrap.bundle.min.js.map": "bootstrap/bootstrap.bundle.min.js.map",
  "bootstrap-icons/font/bootstrap-icons.min.css": "bootstrap-icons/bootstrap-icons.min.css",
  "bootstrap-icons/font/fonts": "bootstrap-icons/fonts",
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  "chart.js/dist/chart.umd.min.js": "chartjs/chart.umd.min.js",
  "chart.js/dist/chart.umd.min.js.map": "chartjs/chart.umd.min.js.map",
  "vanillajs-datepicker/dist/js/datepicker.min.js": "datepicker/datepicker.min.js",
  "vanillajs-datepicker/dist/js/locales/fr.js": "datepicker/locales/fr.js",
  "vanillajs-datepicker/dist/css/datepicker-bs5.min.css": "datepicker/datepicker-bs5.min.css",
  "vanillajs-datepicker/LICENSE": "datepicker/LICENSE",
};

rmSync(vendor, { recursive: true, force: true });
for (const [source, target] of Object.entries(files)) {
  const destination = join(vendor, target);
  mkdirSync(dirname(destination), { recursive: true });
  cpSync(join(modules, source), destination, { recursive: true });
}
console.log(`static/vendor: ${Object.keys(files).length} assets copied`);
