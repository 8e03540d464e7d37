// Start the NHS design system's components (served from the npm package, never a CDN).
import { initAll } from "/static/npm/nhsuk-frontend.min.js";

initAll();
