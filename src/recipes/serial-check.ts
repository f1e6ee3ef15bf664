/**
 * Internal: a check that runs one pass at a time, shared by the recipes that rank a node of ours
 * (leadership, lock, semaphore). Asked for while a pass runs, it runs once more after it, whatever that
 * pass found: the change that prompted the request may have come after the pass's reads.
 */
export class SerialCheck {
  private running = false;
  private again = false;

  /**
   * `rerun`: starts the next pass (the owner's own check, which decides afresh what to evaluate);
   * `failed`: told when a pass rejects.
   */
  constructor(
    private readonly rerun: () => void,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** A pass is in flight. */
  get busy(): boolean {
    return this.running;
  }

  /** From inside a pass: run once more after it. */
  requestAgain(): void {
    this.again = true;
  }

  /** Runs `pass` now, or once more after the one in flight. */
  run(pass: () => Promise<void>): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    pass().then(
      () => this.done(),
      (error: unknown) => {
        this.done();
        this.failed(error);
      },
    );
  }

  private done(): void {
    this.running = false;
    if (this.again) this.rerun();
  }
}
