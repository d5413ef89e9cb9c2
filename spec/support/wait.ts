/**
 * Bounded polling: call `probe` every `intervalMs` until it returns something truthy, or fail
 * after `timeoutMs`. For conditions that are observed, never for hoping time fixes things.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 10, message = 'condition' }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`waitFor: ${message} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the wall clock has moved past `instant`, so a later write gets a later timestamp. */
export async function clockPast(instant: Date, byMs = 1): Promise<void> {
  await waitFor(() => Date.now() >= instant.getTime() + byMs, { intervalMs: 1, message: `clock past ${instant.toISOString()}` });
}

/** Races a promise against a bound, so a hung promise fails the test with a message instead of the mocha timeout. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
