export { createDashboardApp, type DashboardOptions } from './app.js';
export { DEFAULT_DASHBOARD_PORT, createDashboardServer, type DashboardServer, type DashboardServerOptions } from './server.js';
export { reviewLink } from './review-link.js';
export { SafeHtml, escapeHtml, html } from './html.js';
