// The KPI frames a client holds, with the {epoch, seq} bookkeeping of docs/websocket.md (pure: no DOM, no network).

export function frameKey(kpi, area, window) {
  return `${kpi}|${area}|${window}`;
}

export class FrameBook {
  constructor() {
    this.epoch = null;
    this.seq = null;
    this.frames = new Map();
  }

  /** What to send as `resume` after a reconnection; null before the first snapshot or without an epoch. */
  resumeFrom() {
    return this.epoch !== null && this.seq !== null ? { epoch: this.epoch, seq: this.seq } : null;
  }

  get(kpi, area, window) {
    return this.frames.get(frameKey(kpi, area, window));
  }

  /**
   * Applies one server message. Returns what changed: `{ replaced: true }` when everything held was
   * replaced (a snapshot), `{ replaced: false, frames }` for the frames that changed, or null for a
   * message that carries no frames (ready, heartbeat, lagging).
   */
  apply(message) {
    switch (message.type) {
      case 'snapshot':
        // A new epoch, a first connection, a resume the server could not serve or a lagging client:
        // replace everything, so nothing from before survives unannounced.
        this.frames = new Map(message.frames.map((f) => [frameKey(f.kpi, f.area, f.window), f]));
        this.epoch = message.epoch;
        this.seq = message.seq;
        return { replaced: true, frames: message.frames };
      case 'resumed':
        this.#merge(message.frames);
        this.epoch = message.epoch;
        this.seq = message.seq;
        return { replaced: false, frames: message.frames };
      case 'delta': {
        const fresh = message.frames.filter((f) => f.epoch === this.epoch && (this.seq === null || f.seq > this.seq));
        this.#merge(fresh);
        if (fresh.length > 0) {
          this.seq = fresh[fresh.length - 1].seq;
        }
        return { replaced: false, frames: fresh };
      }
      default:
        return null;
    }
  }

  #merge(frames) {
    for (const f of frames) {
      this.frames.set(frameKey(f.kpi, f.area, f.window), f);
    }
  }
}
