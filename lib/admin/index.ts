/** `taskstore/admin`: the dashboard as a Node (req, res) handler. See docs/dashboard.md. */
export { createAdminHandler, type AdminHandler } from './admin-handler.js';
export type { AdminHandlerOptions } from './options.js';
