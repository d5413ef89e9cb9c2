/**
 * Graceful shutdown for long-running commands: the first SIGINT/SIGTERM asks for a stop and
 * waits for it; a second one exits at once (code 130).
 */
export interface ShutdownWatch {
  /** Resolves at the first signal, with its name. */
  readonly signaled: Promise<NodeJS.Signals>;
  dispose(): void;
}

export function watchShutdownSignals(onForce: (signal: NodeJS.Signals) => void = () => process.exit(130)): ShutdownWatch {
  let count = 0;
  let resolveSignal!: (signal: NodeJS.Signals) => void;
  const signaled = new Promise<NodeJS.Signals>((resolve) => {
    resolveSignal = resolve;
  });
  const listener = (signal: NodeJS.Signals) => {
    count += 1;
    if (count === 1) resolveSignal(signal);
    else onForce(signal);
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return {
    signaled,
    dispose() {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    },
  };
}
