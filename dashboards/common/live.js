// A live websocket of the API (docs/websocket.md): ticket over HTTPS, `auth` first, `subscribe`, then
// messages; reconnects by itself with backoff and a fresh ticket. States, always shown by the pages:
// 'connecting' (first time), 'live', 'reconnecting', 'refused' (the handshake was refused, most likely
// for the page's Origin: keeps trying), 'unauthorized' (the key was refused: stops), 'revoked' (the API
// closed the socket because the key was revoked: stops).

import { reconnectDelayMs } from './reconnect.js';

const HEARTBEAT_MS = 15_000;
// The close code the API ends a live socket with once its key is revoked (docs/websocket.md).
export const CLOSE_REVOKED = 4410;
// The server sends a heartbeat every 15 s when idle: this long without a word means the link is dead.
const SILENCE_MS = 40_000;

export class LiveConnection {
  /**
   * api: an Api; path: '/ws/kpis' or '/ws/events'; subscribe(): the subscribe message to send (it is
   * called at every connection, so that it can carry `resume`); liveOn: the server message types that
   * mean "now live"; onMessage(message), onState(state, detail).
   */
  constructor({ api, path, subscribe, liveOn, onMessage, onState }) {
    Object.assign(this, { api, path, subscribe, liveOn: new Set(liveOn), onMessage, onState });
    this.state = null;
    this.attempt = 0;
    this.socket = null;
    this.timers = [];
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.#connect();
  }

  stop() {
    this.stopped = true;
    this.#clearTimers();
    this.socket?.close(1000, 'page closed');
    this.socket = null;
  }

  /** Closes and opens again at once (e.g. with a new subscription). */
  restart() {
    this.stop();
    this.attempt = 0;
    this.start();
  }

  #setState(state, detail = null) {
    if (state !== this.state || detail) {
      this.state = state;
      this.onState(state, detail);
    }
  }

  async #connect() {
    if (this.attempt === 0) this.#setState('connecting');
    let ticket;
    try {
      ticket = (await this.api.post('/api/v1/ws-tickets')).ticket;
    } catch (error) {
      if (error.status === 401) {
        this.#setState('unauthorized', error.message);
        return;
      }
      this.#retry();
      return;
    }
    if (this.stopped) return;
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${window.location.host}${this.path}`);
    this.socket = socket;
    let heard = Date.now();
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      socket.send(JSON.stringify({ type: 'auth', ticket }));
    });
    socket.addEventListener('message', (event) => {
      heard = Date.now();
      const message = JSON.parse(event.data);
      if (message.type === 'ready') {
        socket.send(JSON.stringify(this.subscribe()));
        return;
      }
      if (this.liveOn.has(message.type)) {
        this.attempt = 0;
        this.#setState('live');
      }
      this.onMessage(message);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.socket || this.stopped) return;
      this.#clearTimers();
      if (event.code === CLOSE_REVOKED) {
        // A new ticket would be refused too: say so, and leave it to the page to ask for another key.
        this.stopped = true;
        this.#setState('revoked', event.reason);
        return;
      }
      // The API issued a ticket but refused the handshake: most likely this page's address is not in
      // its IOC_API_ALLOWED_ORIGINS (browsers report a refused handshake only as 1006, so this is the
      // sign). Say so, since an operator can fix it without touching the screen, and keep trying.
      this.#retry(opened ? 'reconnecting' : 'refused');
    });
    this.timers.push(
      setInterval(() => {
        if (socket.readyState !== WebSocket.OPEN) return;
        if (Date.now() - heard > SILENCE_MS) {
          socket.close(4000, 'no heartbeat');
          return;
        }
        socket.send(JSON.stringify({ type: 'heartbeat' }));
      }, HEARTBEAT_MS),
    );
  }

  #retry(state = 'reconnecting') {
    if (this.stopped) return;
    this.#setState(state);
    const delay = reconnectDelayMs(this.attempt);
    this.attempt += 1;
    this.timers.push(setTimeout(() => this.#connect(), delay));
  }

  #clearTimers() {
    for (const timer of this.timers) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    this.timers = [];
  }
}
