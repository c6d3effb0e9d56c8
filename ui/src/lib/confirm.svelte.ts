// A button that acts only when pressed twice: the first press arms it for a few seconds
// (the button says what a second press will do), the second acts. For actions that cannot
// be undone from where they are pressed (blocking a visitor, forgetting an account).

export class TwoPress {
  /** Whether a second press now acts. */
  armed = $state(false);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #action: () => void;
  #window: number;

  constructor(action: () => void, windowMs = 4000) {
    this.#action = action;
    this.#window = windowMs;
  }

  press = () => {
    if (!this.armed) {
      this.armed = true;
      this.#timer = setTimeout(() => (this.armed = false), this.#window);
      return;
    }
    clearTimeout(this.#timer);
    this.armed = false;
    this.#action();
  };
}
