// Browsers: the standard WebSocket (see default-socket.ts).
export { browserSocketFactory as defaultSocketFactory } from './browser-socket.js';
