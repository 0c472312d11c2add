// Browsers: the standard WebSocket (see default-socket.ts).
export { browserSocketFactory as defaultSocketFactory } from './browser-socket.js';
/** Whether the default sockets can send handshake headers (browsers: no, only subprotocols). */
export const HEADERS_ALLOWED = false;
